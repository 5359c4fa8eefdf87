"""In a real browser: the customer opens the restore link of a sent
abandoned-cart reminder, lands on checkout with the cart back, orders, and
the order is credited to the reminder. A tampered link shows a clear page.

Run with ``DJANGO_ALLOW_ASYNC_UNSAFE=true`` (Playwright's sync API runs an
event loop in the test thread).
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from django_order_mail.carts.models import CartRecovery
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import Status
from tests.cart_helpers import hours, make_cart, reminders, scan_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(settings, live_server, broker, esp):
    """The live server answering the cart URLs; email links point at it."""
    settings.ROOT_URLCONF = "tests.browser.cart_urls"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "SITE_URL": live_server.url}
    return live_server.url


@pytest.fixture
def page(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page = browser.new_page(viewport={"width": 420, "height": 900})  # a phone, where mail is read
    page.set_default_timeout(15_000)
    yield page
    page.close()


def sent_reminder():
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), email="tina@example.com")
    scan_at(now)
    [row] = reminders(cart)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    [link] = set(re.findall(r'href="([^"]*/mail/cart/restore/[^"]+)"', row.body_html))
    return cart, row, link


def test_restore_link_lands_on_checkout_and_the_order_is_recovered(shop, page):
    cart, row, link = sent_reminder()
    assert link.startswith(shop)

    # The email as the customer sees it: one button, the items readable.
    page.set_content(row.body_html)
    assert page.get_by_role("link", name="Complete your order").get_attribute("href") == link
    assert page.get_by_role("link", name="Fjord knit sweater").is_visible()
    assert page.locator('img[src$="/SWTR.png"]').count() == 1  # the picture (not loadable here)

    page.get_by_role("link", name="Complete your order").click()
    page.wait_for_url(f"{shop}/shop/checkout/")
    items = page.locator("#items li")
    assert items.count() == 2
    assert "Fjord knit sweater" in items.nth(0).inner_text()
    assert "2 × Merino socks" in items.nth(1).inner_text()

    page.get_by_role("button", name="Place order").click()
    assert "Thank you for order" in page.locator("#thanks").inner_text()

    recovery = CartRecovery.objects.get()
    assert recovery.source == CartRecovery.Source.RESTORE_LINK
    assert recovery.reminder_id == row.pk and recovery.step == 1
    assert recovery.revenue is not None
    cart.refresh_from_db()
    assert cart.ordered_at is not None


def test_tampered_restore_link_shows_a_clear_page_and_restores_nothing(shop, page):
    cart, _row, link = sent_reminder()
    before = cart.last_activity_at
    response = page.goto(link.rstrip("/")[:-6] + "xxxxxx/")
    assert response.status == 400
    assert page.get_by_role("heading", name="This link is not valid").is_visible()
    page.goto(f"{shop}/shop/checkout/")
    assert page.locator("#empty").is_visible()  # nothing in this browser's session
    cart.refresh_from_db()
    assert cart.last_activity_at == before
