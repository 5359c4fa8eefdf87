"""In a real browser: staff log in, open the email analytics page, see the
server-rendered SVG charts and the deliverability warnings, and filter by
email type — with no request leaving the site (no CDN).

Set ``ORDER_MAIL_SCREENSHOTS=1`` to also write ``docs/_static/analytics.png``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail
from tests.factories import OrderFactory
from tests.tracking_utils import bulk_sent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"


@pytest.fixture
def page(monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(15_000)
        yield page
        browser.close()


def history():
    """Three weeks of confirmations and feedback requests; the feedback
    requests of last week drew a spam complaint (1 of 95 reached)."""
    order = OrderFactory()
    now = timezone.now()
    for weeks_ago in (2, 1, 0):
        sent_at = now - timedelta(weeks=weeks_ago, minutes=1)
        rows = bulk_sent(order, 50, sent_at=sent_at, prefix=f"c{weeks_ago}")
        ids = [r.pk for r in rows]
        OutboxEmail.objects.filter(pk__in=ids[: 30 - 5 * weeks_ago]).update(opened_at=sent_at)
        OutboxEmail.objects.filter(pk__in=ids[:8]).update(clicked_at=sent_at)
    feedback = bulk_sent(order, 100, event="feedback_request", sent_at=now - timedelta(weeks=1), prefix="f")
    ids = [r.pk for r in feedback]
    OutboxEmail.objects.filter(pk__in=ids[:1]).update(delivery_status="complained")
    OutboxEmail.objects.filter(pk__in=ids[-5:]).update(delivery_status="bounced")


def test_staff_read_the_analytics_page(page, live_server):
    history()
    get_user_model().objects.create_superuser("boss", "boss@shop.example", "pw-boss-1")
    outside = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(live_server.url) else outside.append(request.url),
    )

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-1")
    page.click("input[type=submit]")
    page.get_by_role("link", name="Email analytics").click()

    page.wait_for_selector("#order-mail-analytics")
    assert page.locator("figure.om-chart svg").count() == 4
    warnings = page.locator("#order-mail-warnings")
    assert warnings.is_visible()
    assert "Complaint rate 1.1 %" in warnings.inner_text()
    assert "Bounce rate 5.0 %" in warnings.inner_text()
    # Each chart has its lines and a tooltip per point.
    engagement = page.locator("figure.om-chart").first
    assert engagement.locator("polyline.om-series").count() == 2
    tooltips = engagement.locator("circle title")
    assert "open rate" in tooltips.first.text_content()
    assert tooltips.last.text_content().endswith("click rate 16.0 %")  # 8 of 50 this week
    box = engagement.locator("svg").bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    flagged = page.locator("td.om-high")
    assert flagged.count() == 2
    if os.environ.get("ORDER_MAIL_SCREENSHOTS"):
        DOCS_STATIC.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_STATIC / "analytics.png"), full_page=True)

    # Filter to order confirmations only: two charts, no warnings.
    page.select_option("select[name=event]", MailEvent.ORDER_CONFIRMATION)
    page.click("form.om-filter button[type=submit]")
    page.wait_for_url("**event=order_confirmation**")
    assert page.locator("figure.om-chart svg").count() == 2
    assert page.locator("#order-mail-warnings").count() == 0
    assert page.locator("h2", has_text="Order confirmation").is_visible()
    assert outside == []
