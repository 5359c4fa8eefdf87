"""In a real browser: staff read orders and revenue per email, and per
subject variant, on the analytics page. The orders get there the real way:
a customer clicks a link in a sent email (Postmark's click webhook), then
pays for a new order (``confirm_payment`` writes its order confirmation,
which credits the click)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from django_order_mail.events import MailEvent
from django_order_mail.tracking.models import EmailAttribution, SubjectTest, SubjectVariant
from tests.factories import OrderFactory
from tests.tracking_utils import POSTMARK_URL, WEBHOOK_SECRET, post_json, postmark_click, sent_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def click_then_buy(address: str, event: str, *, currency: str = "USD") -> None:
    email = sent_row(OrderFactory(email=address), event)
    at = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert post_json(Client(), POSTMARK_URL, postmark_click(email, at=at)).status_code == 200
    order = OrderFactory(email=address, currency=currency)
    with transaction.atomic():
        order.confirm_payment()
        order.save()


def test_staff_see_orders_and_revenue_per_email_and_variant(staff_page, site, settings, broker, esp):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    test = SubjectTest.objects.create(name="Parcel subject", event=MailEvent.SHIPPING_CONFIRMATION)
    SubjectVariant.objects.create(test=test, label="B", subject="{{ customer_name }}, it ships!")
    click_then_buy("kari@example.no", MailEvent.SHIPPING_CONFIRMATION, currency="NOK")
    click_then_buy("james@example.com", MailEvent.SHIPPING_CONFIRMATION)
    click_then_buy("olga@example.ru", MailEvent.DELIVERED)
    click_then_buy("wang@example.cn", "feedback_request")
    assert EmailAttribution.objects.count() == 4

    staff_page.goto(f"{site}/admin/order_mail_tracking/emailanalytics/")
    table = staff_page.locator("#order-mail-revenue-table")
    table.wait_for()
    rows = {
        r.locator("td").nth(0).inner_text(): (
            r.locator("td").nth(1).inner_text(),
            r.locator("td").nth(2).inner_text(),
        )
        for r in table.locator("tbody tr").all()
    }
    assert rows["Shipping confirmation"][0] == "2"
    assert "NOK" in rows["Shipping confirmation"][1] and "$43.29" in rows["Shipping confirmation"][1]
    assert rows["Delivered"] == ("1", "$43.29")
    assert rows["Feedback request"][0] == "1"
    variants = staff_page.locator("#order-mail-variant-revenue tbody tr")
    assert variants.count() == 1
    assert "Parcel subject" in variants.first.inner_text() and "B" in variants.first.inner_text()

    # One email type only: its own revenue row.
    staff_page.select_option("select[name=event]", MailEvent.DELIVERED)
    staff_page.click("form.om-filter button[type=submit]")
    staff_page.wait_for_url("**event=delivered**")
    assert staff_page.locator("#order-mail-revenue-table tbody tr").count() == 1
    assert "Delivered" in staff_page.locator("#order-mail-revenue-table").inner_text()
