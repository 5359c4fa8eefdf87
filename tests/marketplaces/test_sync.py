"""Applying feeds: paging, repeats, out-of-order and malformed items, retries,
atomic items, the cursor and page sources (marketplaces/sync.py, applier.py)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_order_mail.events import MailEvent
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.marketplaces.base import get_adapter
from django_order_mail.marketplaces.models import MarketplaceOrderUpdate, MarketplaceSyncCursor, Outcome
from django_order_mail.marketplaces.sync import FeedError, pages_from_file, run_sync, sync_pages
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.marketplaces.helpers import (  # noqa: F401
    BROKEN,
    FIXTURES,
    NOT_OURS,
    SOURCE_CALLS,
    load,
    log_rows,
    mail,
    marketplace_settings,
)
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("marketplace_settings")]

B, C, D = "8185430916772341", "8185430916772342", "8185430916779001"
ALIEXPRESS_SKIP = "channel aliexpress: AliExpress sends this status email to the buyer"


def sync(name="lifecycle_pages.json", **kwargs):
    return run_sync("aliexpress", files=[FIXTURES / name], **kwargs)


def test_lifecycle_feed_over_three_pages():
    summary = sync()
    assert (summary.pages, summary.applied, summary.failed) == (3, 7, 0)
    # the in-page repeat of C's partial shipment and page 1's PLACE_ORDER_SUCCESS
    # of B on page 3 are repeats; B's first update leaves it where it was created
    assert (summary.ignored, summary.duplicates) == (3, 2)

    b = Order.objects.get(number=B)
    assert b.state == "shipped"
    assert [r.transitions for r in log_rows(external_order_id=B)] == [
        [],
        ["hold_for_payment_review"],
        ["confirm_payment"],
        ["ship"],
    ]
    c = Order.objects.get(number=C)
    assert c.state == "completed"
    assert [r.transitions for r in log_rows(external_order_id=C)] == [
        ["confirm_payment"],
        ["ship_partially"],
        ["ship"],
        ["mark_delivered", "complete"],
    ]
    assert [(s.carrier, s.tracking_number) for s in Shipment.for_order(c)] == [
        ("cainiao", "LP00123456789012"),
        ("yanwen", "UG123456789CN"),
    ]
    # AliExpress channel rules: no confirmation from the shop, one shipping
    # confirmation per parcel, the delivered email and the feedback request.
    emails = mail(c)
    assert emails[MailEvent.ORDER_CONFIRMATION] == [(Status.SKIPPED, ALIEXPRESS_SKIP)]
    assert emails[MailEvent.SHIPPING_CONFIRMATION] == [(Status.QUEUED, ""), (Status.QUEUED, "")]
    assert emails[MailEvent.DELIVERED] == [(Status.QUEUED, "")]
    assert emails["feedback_request"][0][0] == Status.SCHEDULED
    partial, final = OutboxEmail.for_order(c).filter(event=MailEvent.SHIPPING_CONFIRMATION).order_by("id")
    assert partial.extra.get("partial_shipment") is True
    assert final.shipment.tracking_number == "UG123456789CN"


def test_repeating_the_whole_feed_changes_nothing():
    sync()
    rows, emails, shipments = (
        MarketplaceOrderUpdate.objects.count(),
        OutboxEmail.objects.count(),
        Shipment.objects.count(),
    )
    again = sync()
    assert (again.applied, again.failed, again.duplicates) == (0, 0, again.ignored)
    assert again.ignored == 10  # every item of the feed
    assert MarketplaceOrderUpdate.objects.count() == rows
    assert OutboxEmail.objects.count() == emails
    assert Shipment.objects.count() == shipments


def test_repeat_is_recognised_with_few_queries():
    sync()
    adapter = get_adapter("aliexpress")
    first_page = load("lifecycle_pages.json")[:1]
    with CaptureQueriesContext(connection) as queries:
        summary = sync_pages(adapter, first_page)
    assert summary.duplicates == 3
    assert len(queries) < 15


def test_newer_update_first_then_older_ones_are_ignored_as_stale():
    summary = sync("out_of_order_pages.json")
    order = Order.objects.get(number=D)
    assert order.state == "completed"
    finish, wait_send, wait_accept = log_rows(external_order_id=D)
    assert finish.status == "FINISH" and finish.outcome == Outcome.APPLIED
    assert finish.transitions == ["confirm_payment", "ship", "mark_delivered", "complete"]
    for row in (wait_send, wait_accept):
        assert row.outcome == Outcome.IGNORED
        assert row.reason.startswith("stale: modified 2024-04-0")
        assert "before the last applied update (2024-04-10T19:00:00+00:00)" in row.reason
    assert (summary.applied, summary.ignored, summary.failed) == (1, 2, 0)
    # One parcel, one shipping confirmation, even though two items carried it.
    assert len(mail(order)[MailEvent.SHIPPING_CONFIRMATION]) == 1


def test_items_within_a_page_are_applied_oldest_first():
    # The page lists C's updates newest first: sorted, each one moves the order.
    items = load("lifecycle_pages.json")
    c_items = [
        i
        for p in items
        for i in p["aliexpress_solution_order_get_response"]["result"]["target_list"]["order_dto"]
        if str(i["order_id"]) == C
    ]
    page = {"result": {"error_code": "0", "target_list": {"order_dto": c_items[::-1]}}}
    summary = sync_pages(get_adapter("aliexpress"), [page])
    assert summary.failed == 0
    assert [r.status for r in log_rows(outcome=Outcome.APPLIED)] == [
        "WAIT_SELLER_SEND_GOODS",
        "SELLER_PART_SEND_GOODS",
        "WAIT_BUYER_ACCEPT_GOODS",
        "FINISH",
    ]
    assert Order.objects.get(number=C).state == "completed"


def test_newer_update_that_points_backwards_is_ignored():
    adapter = get_adapter("aliexpress")
    item = {"order_id": C, "order_status": "WAIT_BUYER_ACCEPT_GOODS", "gmt_update": "2024-03-03 09:00:00"}
    sync_pages(adapter, [[item]])
    back = {"order_id": C, "order_status": "WAIT_SELLER_SEND_GOODS", "gmt_update": "2024-03-04 09:00:00"}
    summary = sync_pages(adapter, [[back]])
    assert summary.ignored == 1
    row = log_rows(status="WAIT_SELLER_SEND_GOODS")[0]
    assert row.reason.startswith("order is shipped, past awaiting_shipment")
    assert Order.objects.get(number=C).state == "shipped"


def test_conflict_is_failed_and_the_rest_of_the_batch_applies():
    adapter = get_adapter("aliexpress")
    sync_pages(
        adapter, [[{"order_id": C, "order_status": "WAIT_SELLER_SEND_GOODS", "gmt_update": "2024-03-01"}]]
    )
    order = Order.objects.get(number=C)
    order.cancel(reason="out of stock")  # the shop cancelled it on its side
    order.save()
    summary = sync_pages(
        adapter,
        [
            [
                {
                    "order_id": C,
                    "order_status": "WAIT_BUYER_ACCEPT_GOODS",
                    "gmt_update": "2024-03-03 09:00:00",
                },
                {
                    "order_id": B,
                    "order_status": "WAIT_SELLER_SEND_GOODS",
                    "gmt_update": "2024-03-03 09:00:00",
                },
            ]
        ],
    )
    assert (summary.applied, summary.failed) == (1, 1)
    [row] = log_rows(outcome=Outcome.FAILED)
    assert row.external_order_id == C
    assert "says WAIT_BUYER_ACCEPT_GOODS (shipped) but the order is cancelled" in row.reason
    assert summary.problems == [f"{C}: {row.reason}"]
    assert Order.objects.get(number=C).state == "cancelled"
    assert Order.objects.get(number=B).state == "awaiting_shipment"


def test_malformed_feed_records_every_problem_and_applies_the_rest():
    summary = sync("malformed.jsonl")
    assert summary.pages == 5
    assert summary.failed == 7
    by_reason = {r.reason: r for r in log_rows(outcome=Outcome.FAILED)}
    reasons = "\n".join(sorted(by_reason))
    assert "page 2: AliExpress error 15: Remote service error" in reasons
    assert "malformed.jsonl line 3 is not JSON" in reasons
    assert "page 4 item 1: order_id is missing" in reasons
    assert "page 4 item 2: unknown AliExpress order_status 'BUYER_SAYS_HELLO'" in reasons
    assert "page 4 item 3: gmt_update: 'yesterday' is not a timestamp" in reasons
    assert "page 4 item 4: order item is not a JSON object but str" in reasons
    assert "page 5: AliExpress error 27: Invalid session" in reasons
    unknown = next(r for r in by_reason.values() if "BUYER_SAYS_HELLO" in r.reason)
    assert (unknown.external_order_id, unknown.status) == ("8185430916775001", "BUYER_SAYS_HELLO")
    # the good items of the same pages went through
    assert Order.objects.get(number="8185430916775001").state == "awaiting_shipment"
    assert Order.objects.get(number="8185430916775002").state == "pending_payment"
    assert Order.objects.get(number="8185430916775003").state == "frozen"
    lamp = log_rows(external_order_id="8185430916775004")[0]
    assert lamp.outcome == Outcome.APPLIED
    assert "product 0 unit price" in lamp.reason
    assert lamp.details["warnings"]


def test_failed_item_is_retried_when_it_comes_again():
    BROKEN.add(C)
    first = sync()
    # C's four distinct updates, and the repeat of one (a failed item is retried)
    assert first.failed == 5
    [row, *_] = log_rows(external_order_id=C, outcome=Outcome.FAILED)
    assert row.reason == "RuntimeError: shop database unavailable"
    assert not Order.objects.filter(number=C).exists()

    BROKEN.clear()
    second = sync()
    assert second.failed == 0
    assert Order.objects.get(number=C).state == "completed"
    rows = log_rows(external_order_id=C)
    assert len(rows) == 4
    assert [(r.status, r.outcome, r.attempts) for r in rows] == [
        ("WAIT_SELLER_SEND_GOODS", Outcome.APPLIED, 2),
        ("SELLER_PART_SEND_GOODS", Outcome.APPLIED, 3),
        ("WAIT_BUYER_ACCEPT_GOODS", Outcome.APPLIED, 2),
        ("FINISH", Outcome.APPLIED, 2),
    ]


def test_an_item_applies_completely_or_not_at_all(mail_settings, tmp_path):
    # The shop's shipment hook fails on B's parcel: confirm_payment has run and
    # saved, then ship raises. The item rolls back as a whole - order state,
    # emails, shipments - and is recorded as failed.
    mail_settings(MARKETPLACE_ADAPTERS={"aliexpress": "tests.marketplaces.helpers.ExplodingAliExpress"})
    placed = {"order_id": B, "order_status": "PLACE_ORDER_SUCCESS", "gmt_update": "2024-03-01 10:00:00"}
    shipped = {
        "order_id": B,
        "order_status": "WAIT_BUYER_ACCEPT_GOODS",
        "gmt_update": "2024-03-02 12:00:00",
        "logistic_info_list": {"global_aeop_tp_logistic_info_dto": [{"logistics_no": "RB123456789CN"}]},
    }
    feed = tmp_path / "feed.json"
    feed.write_text(_dumps([placed, shipped]))
    summary = run_sync("aliexpress", files=[feed])
    assert (summary.ignored, summary.failed) == (1, 1)
    order = Order.objects.get(number=B)
    assert order.state == "pending_payment"
    assert OutboxEmail.for_order(order).count() == 0
    assert Shipment.for_order(order).count() == 0
    row = log_rows(outcome=Outcome.FAILED)[0]
    assert row.reason == "ValueError: carrier RB not configured"
    assert row.transitions == []


def test_resolver_returning_none_is_ignored():
    NOT_OURS.add(B)
    summary = sync_pages(get_adapter("aliexpress"), [[{"order_id": B, "order_status": "FINISH"}]])
    assert summary.ignored == 1
    [row] = log_rows()
    assert row.reason == f"no shop order for AliExpress order {B}"
    assert not Order.objects.filter(number=B).exists()


def test_wrong_sales_channel_is_warned_about(mail_settings):
    mail_settings(MARKETPLACE_ORDER_RESOLVER="tests.marketplaces.helpers.resolve_as_web_order")
    sync_pages(get_adapter("aliexpress"), [[{"order_id": B, "order_status": "WAIT_SELLER_SEND_GOODS"}]])
    [row] = log_rows()
    assert "the order's sales channel is 'web', not 'aliexpress'" in row.reason
    # ...and so the web rules applied: the shop sent its own confirmation.
    assert mail(Order.objects.get(number=B))[MailEvent.ORDER_CONFIRMATION] == [(Status.QUEUED, "")]


def test_no_notify_moves_orders_and_logs_skips():
    sync(notify=False)
    c = Order.objects.get(number=C)
    assert c.state == "completed"
    statuses = {status for rows in mail(c).values() for status, _ in rows}
    assert statuses == {Status.SKIPPED}


def test_page_source_gets_the_cursor_and_advances_it():
    first = run_sync("aliexpress", source="tests.marketplaces.helpers.lifecycle_pages")
    assert first.applied == 7
    cursor = MarketplaceSyncCursor.objects.get(marketplace="aliexpress")
    assert cursor.last_sequence.isoformat() == "2024-03-20T15:00:00+00:00"  # FINISH, 08:00 PDT
    assert cursor.last_summary["applied"] == 7
    second = run_sync("aliexpress", source="tests.marketplaces.helpers.lifecycle_pages")
    assert second.applied == 0
    assert [None, cursor.last_sequence] == SOURCE_CALLS


def test_page_source_that_dies_keeps_what_it_delivered():
    summary = run_sync("aliexpress", source="tests.marketplaces.helpers.failing_pages")
    assert summary.pages == 1
    assert summary.source_error == "ConnectionError: AliExpress gateway timed out"
    assert not summary.ok
    assert Order.objects.get(number="5010253598549132").state == "awaiting_shipment"


def test_feed_file_shapes(tmp_path):
    seed = load("seed_page1.json")
    single = tmp_path / "one.json"
    single.write_text(_dumps(seed))
    assert list(pages_from_file(single)) == [seed]
    several = tmp_path / "pages.json"
    several.write_text(_dumps([seed, seed]))
    assert len(list(pages_from_file(several))) == 2
    items = tmp_path / "items.json"
    items.write_text(_dumps([{"order_id": 1, "order_status": "FINISH"}]))
    assert list(pages_from_file(items)) == [[{"order_id": 1, "order_status": "FINISH"}]]


def _dumps(data):
    return json.dumps(data)


def nested(levels: int):
    value = "x"
    for _ in range(levels):
        value = [value]
    return value


def test_a_feed_file_nested_deeper_than_the_limit_is_refused_before_anything_is_applied(tmp_path):
    page = load("seed_page1.json")
    page["aliexpress_solution_order_get_response"]["result"]["target_list"]["order_dto"][0]["memo"] = nested(
        150
    )
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(page))
    with pytest.raises(FeedError, match=r"deep\.json is nested too deeply"):
        run_sync("aliexpress", files=[FIXTURES / "seed_page2.json", path])
    assert not MarketplaceOrderUpdate.objects.exists()
    assert not MarketplaceSyncCursor.objects.exists()


def test_a_too_deeply_nested_page_of_a_page_source_is_one_failure():
    summary = sync_pages(get_adapter("aliexpress"), [{"items": nested(150)}, load("seed_page1.json")])
    assert (summary.pages, summary.failed, summary.applied) == (2, 1, 1)
    assert "page 1: nested too deeply" in summary.problems[0]
