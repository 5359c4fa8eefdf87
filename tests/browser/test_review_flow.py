"""In a real browser: a customer clicks a star in the feedback email, writes
a review with a photo, staff approve it in the admin, and the product page
shows it (escaped, with its photo and schema.org markup).

Set ``ORDER_MAIL_SCREENSHOTS=1`` to also write the screenshots used in
``docs/reviews.rst`` to ``docs/_static/``.
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.rendering.render import render_outbox_email
from django_order_mail.reviews.models import ProductReview, ReviewPhoto
from tests.factories import OrderFactory
from tests.reviews.conftest import jpeg_with_gps
from tests.testapp.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Warm <b>and</b> soft"
BODY = "Worn them all winter & no holes yet.\n<script>alert(1)</script>"
DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"
ITEMS = [
    {
        "name": "Wool socks",
        "sku": "SOCK-1",
        "quantity": 2,
        "unit_price": Decimal("12.50"),
        "total": Decimal("25.00"),
    },
    {"name": "Mug", "sku": "MUG-9", "quantity": 1, "unit_price": Decimal("9.90"), "total": Decimal("9.90")},
]


@pytest.fixture
def browser_page(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.set_default_timeout(15_000)
    yield page
    page.close()


def shoot(page, name: str, *, full_page: bool = True) -> None:
    if os.environ.get("ORDER_MAIL_SCREENSHOTS"):
        DOCS_STATIC.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_STATIC / name), full_page=full_page)


def test_star_click_review_with_photo_approval_and_product_page(
    browser_page, live_server, settings, no_broker, monkeypatch
):
    page = browser_page
    settings.ROOT_URLCONF = "tests.browser.review_urls"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "SITE_URL": live_server.url}
    monkeypatch.setattr(Order, "get_mail_line_items", lambda self: [dict(i) for i in ITEMS])
    order = OrderFactory(customer_name="Tina")
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])

    # The customer opens the email and clicks the fourth star of the socks.
    page.set_content(render_outbox_email(row, order).html)
    shoot(page, "reviews-email.png")
    socks = page.locator("td", has=page.get_by_role("link", name="Wool socks", exact=True)).last
    socks.get_by_role("link", name="4 stars", exact=True).click()
    page.wait_for_url(re.compile(r"/mail/reviews/.+\?stars=4$"))
    assert page.get_by_text("Thank you! Your rating of 4 stars is saved.").is_visible()
    assert ProductReview.objects.get().rating == 4

    # ...then writes a few words and adds a phone photo (with its GPS position).
    page.get_by_label("Title (optional)", exact=True).fill(TITLE)
    page.get_by_label("Your review (optional)", exact=True).fill(BODY)
    page.get_by_label("Photos (optional)", exact=True).set_input_files(
        [{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps((640, 480))}]
    )
    shoot(page, "reviews-page.png")
    page.get_by_role("button", name="Save review").click()
    page.wait_for_url(re.compile(r"\?saved=1$"))
    assert page.get_by_text("Thank you, your review is saved.").is_visible()
    assert page.locator("img[alt='Your photo']").evaluate("img => img.naturalWidth") == 640
    review = ProductReview.objects.get()
    assert (review.title, review.body, review.status) == (TITLE, BODY, "pending")
    assert ReviewPhoto.objects.filter(review=review).count() == 1

    # Not on the product page before a moderator approved it.
    page.goto(f"{live_server.url}/shop/products/SOCK-1/")
    assert page.get_by_text("No reviews yet.").is_visible()

    # Staff approve it from the moderation queue.
    get_user_model().objects.create_superuser("staff", "staff@shop.example", "s3cret-pass")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/order_mail_reviews/productreview/")
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("s3cret-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/order_mail_reviews/productreview/$"))
    queue_row = page.locator("#result_list tbody tr", has_text="Wool socks")
    assert "Warm <b>and</b> soft" in queue_row.inner_text() and page.locator("#result_list b").count() == 0
    shoot(page, "reviews-queue.png", full_page=False)
    queue_row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("approve_reviews")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).click()
    page.wait_for_load_state()
    assert page.get_by_text("1 review approved.").is_visible()
    review.refresh_from_db()
    assert review.status == "approved"

    # The product page shows it: escaped text, the photo, the verified buyer, valid JSON-LD.
    page.goto(f"{live_server.url}/shop/products/SOCK-1/")
    section = page.locator("section.order-mail-reviews")
    assert section.get_by_role("heading", name=TITLE).is_visible()
    assert "<script>alert(1)</script>" in section.inner_text()
    assert page.locator("section.order-mail-reviews script:not([type])").count() == 0
    assert section.get_by_text("✓ Verified buyer").is_visible()
    assert section.locator(".stars").first.inner_text() == "★★★★☆"
    photo = section.locator("img[alt='Photo by the customer']")
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 640
    data = json.loads(page.locator("script[type='application/ld+json']").text_content())
    assert data["aggregateRating"]["ratingValue"] == "4.0" and data["review"][0]["name"] == TITLE
    shoot(page, "reviews-product-page.png")
