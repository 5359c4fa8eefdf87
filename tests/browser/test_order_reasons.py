"""The order page's reason fields in a real browser: the preset and the note
typed under "Cancel" travel with the button's own small form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from django_order_mail.outbox.models import OutboxEmail
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancel_sends_the_picked_preset_and_the_note(staff_page, site, no_broker):
    order = OrderFactory(language="ru")
    page = staff_page
    page.goto(f"{site}/shop-admin/testapp/order/{order.pk}/change/")
    page.select_option("#order-mail-cancel-reason_code", "out_of_stock")
    page.fill("#order-mail-cancel-note", "Вернётся в мае")
    page.click('button[value="cancel"]')
    expect(page.locator("#order-mail-state")).to_have_text("Cancelled")
    row = OutboxEmail.for_order(order).get()
    assert row.extra == {"reason_code": "out_of_stock", "note": "Вернётся в мае"}
