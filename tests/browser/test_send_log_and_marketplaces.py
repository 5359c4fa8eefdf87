"""Issue 17 in a real browser: staff answer their questions in the admin
without a developer.

* the send log, searched by part of an address and by part of a name;
* its key columns at 1366 x 768, without scrolling sideways;
* a marketplace sync run's malformed lines, with their reasons;
* the order matching rule set up by staff, then the next sync moving the
  right orders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import transaction
from playwright.sync_api import expect

from django_order_mail.events import MailEvent
from django_order_mail.marketplaces.models import MarketplaceOrderUpdate, MarketplaceSyncRun
from django_order_mail.marketplaces.sync import run_sync
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from tests.factories import OrderFactory
from tests.testapp.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURES = Path(__file__).parent.parent / "fixtures" / "aliexpress"
SEND_LOG = "/admin/django_order_mail/outboxemail/"
RUNS = "/admin/order_mail_marketplaces/marketplacesyncrun/"


def emails_for(**order_fields) -> OutboxEmail:
    order = OrderFactory(**order_fields)
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    return row


def listed_ids(page) -> set[int]:
    cells = page.locator("#result_list tbody td.field-id, #result_list tbody th.field-id")
    return {int(text.strip()) for text in cells.all_inner_texts()}


def search(page, site, term: str) -> None:
    page.goto(f"{site}{SEND_LOG}")
    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")
    expect(page.locator("#searchbar")).to_have_value(term)


def test_staff_find_emails_by_part_of_an_address_or_a_name(staff_page, site, no_broker):
    hansen = emails_for(customer_name="Tina Hansen", email="tina.h@fjordpost.no")
    other = emails_for(customer_name="Ola Nordmann", email="ola@example.com")
    hansson = emails_for(customer_name="Per Hansson", email="per@fjordpost.no")
    page = staff_page

    search(page, site, "fjordpost")  # part of two addresses
    assert listed_ids(page) == {hansen.pk, hansson.pk}

    search(page, site, "hansen")  # part of one name, typed in lower case
    assert listed_ids(page) == {hansen.pk}
    row = page.locator("#result_list tbody tr").first
    expect(row.locator("td.field-customer")).to_contain_text("Tina Hansen")
    expect(row.locator("td.field-customer")).to_contain_text("tina.h@fjordpost.no")

    search(page, site, "OLA@EXAMPLE.COM")  # a whole address, as typed
    assert listed_ids(page) == {other.pk}


def test_the_key_columns_fit_1366_pixels(browser, site, staff_page, no_broker):
    """1366 x 768, the filters open: every key column is on the screen and
    nothing scrolls sideways, however long the name, address and reason."""
    long_name = "Maximiliane Alexandra von Hohenzollern-Sigmaringen"
    row = emails_for(customer_name=long_name, email=f"{'x' * 40}@a-very-long-domain-name.example")
    OutboxEmail.objects.filter(pk=row.pk).update(
        status="sent",
        delivery_status="delivered",
        open_count=3,
        click_count=1,
        last_error="ESP answered 422: the recipient's mailbox is inactive and refuses all mail",
    )
    page = staff_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{site}{SEND_LOG}")
    expect(page.locator("#changelist-filter")).to_be_visible()
    for column in ("id", "status_badge", "event_label", "order_link", "customer", "created"):
        header = page.locator(f"#result_list th.column-{column}")
        expect(header).to_be_visible()
        box = header.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, column
    for column in ("delivery", "opens", "clicks", "short_error"):  # the tracking app is installed
        box = page.locator(f"#result_list th.column-{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1366, column
    widths = page.evaluate(
        "() => {const r = document.querySelector('#changelist .results');"
        " return [r.scrollWidth, r.clientWidth, document.documentElement.scrollWidth, window.innerWidth]}"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    cells = page.locator("#result_list tbody tr").first
    expect(cells.locator("td.field-delivery")).to_have_text("Delivered")
    expect(cells.locator("td.field-opens")).to_have_text("3")
    expect(cells.locator("td.field-order_link")).to_contain_text("web")  # the sales channel
    expect(cells.locator(f'td.field-customer [title="{long_name}"]')).to_be_visible()


def test_a_sync_runs_malformed_lines_with_their_reasons(staff_page, site, no_broker, mail_settings):
    mail_settings(MARKETPLACE_ORDER_RESOLVER="tests.marketplaces.helpers.resolve_order")
    run_sync("aliexpress", files=[str(FIXTURES / "seed_page1.json")])  # a clean run
    summary = run_sync("aliexpress", files=[str(FIXTURES / "malformed.jsonl")])
    assert summary.malformed == summary.failed > 0
    page = staff_page

    page.goto(f"{site}{RUNS}")
    page.get_by_role("link", name="With problems").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td.field-malformed_link")).to_have_text(str(summary.malformed))
    expect(rows.first.locator("td.field-result")).to_have_text("with problems")

    rows.first.locator("th a").click()  # the run's page
    problems = page.locator(".inline-group").filter(has_text="Problems in this run")
    expect(problems).to_contain_text("is not JSON")
    expect(problems).to_contain_text("BUYER_SAYS_HELLO")
    expect(problems).to_contain_text("Remote service error")
    expect(problems).to_contain_text("gmt_update")
    assert problems.locator("tbody tr.has_original, tbody tr").count() >= summary.malformed

    # From the count to the update log, filtered to the run's malformed lines.
    page.goto(f"{site}{RUNS}")
    page.locator("#result_list tbody tr").first.locator("td.field-malformed_link a").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(
        MarketplaceOrderUpdate.objects.filter(run=summary.run, problem="malformed").count()
    )


def test_staff_choose_the_order_number_field_and_the_next_sync_moves_the_right_orders(
    staff_page, site, no_broker, tmp_path
):
    paid = OrderFactory(number="8001", sales_channel="aliexpress")
    shipped = OrderFactory(number="8002", sales_channel="aliexpress", state="awaiting_shipment")
    bystander = OrderFactory(number="1008001", sales_channel="aliexpress")  # contains 8001: not it
    feed = tmp_path / "feed.json"
    feed.write_text(
        json.dumps(
            {
                "items": [
                    {"order_id": "8001", "status": "awaiting_shipment", "updated_at": "2024-05-02T09:00:00Z"},
                    {
                        "order_id": "8002",
                        "status": "shipped",
                        "updated_at": "2024-05-02T09:30:00Z",
                        "shipments": [{"carrier": "ups", "tracking_number": "1Z999AA10123456784"}],
                    },
                    {"order_id": "9999", "status": "cancelled", "updated_at": "2024-05-02T10:00:00Z"},
                ]
            }
        )
    )
    page = staff_page
    page.goto(f"{site}/admin/order_mail_marketplaces/ordermatchrule/add/")
    page.select_option("#id_marketplace", "generic")
    number = page.locator("#id_order_field optgroup[label='testapp.Order'] option", has_text="(number)")
    page.select_option("#id_order_field", number.get_attribute("value"))
    page.click("input[name=_save]")
    expect(page.locator("#result_list")).to_contain_text("generic")
    expect(page.locator("#result_list")).to_contain_text("number")

    summary = run_sync("generic", files=[str(feed)])  # the next sync (beat, cron or the command)
    assert (summary.applied, summary.ignored, summary.failed) == (2, 1, 0)
    for order, state in ((paid, "awaiting_shipment"), (shipped, "shipped"), (bystander, "pending_payment")):
        order.refresh_from_db()
        assert order.state == state, order.number

    page.goto(f"{site}{RUNS}")
    row = page.locator("#result_list tbody tr").first
    expect(row.locator("td.field-applied_link")).to_have_text("2")
    row.locator("td.field-applied_link a").click()
    log = page.locator("#result_list")
    expect(log.locator("tbody tr")).to_have_count(2)
    expect(log).to_contain_text("8001")
    expect(log).to_contain_text("8002")
    assert set(Order.objects.filter(state="pending_payment").values_list("number", flat=True)) == {"1008001"}
    assert MarketplaceSyncRun.objects.get(pk=summary.run.pk).applied == 2
