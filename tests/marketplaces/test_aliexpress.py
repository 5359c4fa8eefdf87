"""AliExpress adapter: reading the order API's answers and mapping order_status.

Payloads are the fixtures in tests/fixtures/aliexpress/, built from the
response shape of aliexpress.solution.order.get / order.info.get.
"""

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from django_order_mail.events import MailEvent
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.marketplaces.aliexpress import AliExpressAdapter
from django_order_mail.marketplaces.base import get_adapter
from django_order_mail.marketplaces.models import Outcome
from django_order_mail.marketplaces.parsing import (
    MalformedUpdateError,
    UnknownStatusError,
    parse_amount,
    parse_money,
)
from django_order_mail.marketplaces.sync import sync_pages
from django_order_mail.outbox.models import Status
from tests.marketplaces.helpers import load, log_rows, mail, marketplace_settings  # noqa: F401
from tests.testapp.models import Order

AE = AliExpressAdapter()


def item(order_id=8185430916770001, status="WAIT_SELLER_SEND_GOODS", when="2024-03-01 10:00:00", **extra):
    return {"order_id": order_id, "order_status": status, "gmt_update": when, **extra}


def page(*items):
    return {
        "aliexpress_solution_order_get_response": {
            "result": {"error_code": "0", "success": True, "target_list": {"order_dto": list(items)}}
        }
    }


# -- reading pages and items ----------------------------------------------------


def test_seed_answer_is_read_into_a_typed_update():
    [raw] = AE.iter_items(load("seed_page1.json"))
    update = AE.parse(raw)
    assert update.external_id == "5010253598549132"
    assert update.status == "WAIT_SELLER_SEND_GOODS"
    # gmt_update is Pacific time: 23:57 PDT on 8 May is 06:57 UTC on 9 May.
    assert update.sequence == datetime(2021, 5, 9, 6, 57, tzinfo=timezone.utc)
    [line] = update.line_items
    assert line["name"] == "Certificate store Tilda"
    assert line["unit_price"] == Decimal("200.00")
    assert line["total"] == Decimal("200.00")  # "200. 00" in the payload
    assert line["currency"] == "RUB"
    assert line["sku"] == "3424314"
    assert update.amounts == {"subtotal": Decimal("200.00"), "shipping": Decimal("0.00")}
    assert update.currency == "RUB"
    assert update.channel == "aliexpress"
    assert update.warnings == []
    details = update.details()
    assert details["fund_status"] == "PAY_SUCCESS"
    assert "ae877656" not in str(details) and "ru1300383132tiaae" not in str(details)


def test_order_info_answer_in_camel_case_with_logistics():
    [raw] = AE.iter_items(load("order_info_camel.json"))
    update = AE.parse(raw)
    assert update.external_id == "8185430916776001"
    assert update.status == "WAIT_BUYER_ACCEPT_GOODS"
    assert update.amounts["total"] == Decimal("1299.00")  # "1 299,00"
    assert update.currency == "NOK"
    [parcel] = update.shipments
    assert parcel.tracking_number == "00370730253912345678"
    assert AE.carrier_code(parcel.carrier) == "posten_bring"
    assert parcel.shipped_at == datetime(2024, 6, 1, 6, 10, tzinfo=timezone.utc)


def test_pages_that_are_error_answers_raise_malformed():
    with pytest.raises(MalformedUpdateError, match="Invalid session"):
        AE.iter_items({"error_response": {"code": 27, "msg": "Invalid session"}})
    with pytest.raises(MalformedUpdateError, match="error 15: Remote service error"):
        AE.iter_items(
            {
                "aliexpress_solution_order_get_response": {
                    "result": {"error_code": "15", "error_message": "Remote service error", "success": False}
                }
            }
        )
    with pytest.raises(MalformedUpdateError, match="neither"):
        AE.iter_items({"aliexpress_solution_order_get_response": {"result": {"error_code": "0"}}})


def test_empty_page_has_no_items():
    assert AE.iter_items(page()) == []
    assert AE.iter_items({"result": {"error_code": "0", "target_list": {}}}) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("oops", "not a JSON object"),
        ({"order_status": "FINISH"}, "order_id is missing"),
        (item(order_id="12 34"), "not a valid order id"),
        (item(order_id=True), "order_id is missing"),
        (item(status=None), "order_status is missing"),
        (item(when="yesterday"), "not a timestamp"),
    ],
)
def test_malformed_items(raw, message):
    with pytest.raises(MalformedUpdateError, match=message):
        AE.parse(raw)


def test_unknown_status_keeps_the_order_id_for_the_log():
    with pytest.raises(UnknownStatusError) as info:
        AE.parse(item(status="WAIT_BUYER_SMILE"))
    assert info.value.external_id == "8185430916770001"
    assert info.value.status == "WAIT_BUYER_SMILE"


def test_bad_price_is_a_warning_not_a_failure():
    raw = item(
        product_list={
            "order_product_dto": [
                {"product_name": "Lamp", "product_count": 1, "product_unit_price": {"amount": "abc"}}
            ]
        }
    )
    update = AE.parse(raw)
    assert update.line_items[0]["unit_price"] is None
    assert any("not an ISO 4217 code" in w or "not a number" in w for w in update.warnings)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("200.00", Decimal("200.00")),
        ("0. 00", Decimal("0.00")),
        ("1,234.50", Decimal("1234.50")),
        ("12,50", Decimal("12.50")),
        ("1\u00a0299,00", Decimal("1299.00")),
        (15, Decimal(15)),
        ("-3.10", Decimal("-3.10")),
    ],
)
def test_amounts_become_decimals(raw, expected):
    assert parse_amount(raw) == expected


@pytest.mark.parametrize("raw", [12.5, "1,234", "abc", "", None, "1e5", "NaN", "12.3.4", True])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(MalformedUpdateError):
        parse_amount(raw)


def test_money_needs_an_iso_currency():
    assert parse_money({"amount": "9.90", "currency_code": "eur"}, "x") == (Decimal("9.90"), "EUR")
    assert parse_money({"cent": 990, "currency_code": "USD"}, "x") == (Decimal("9.90"), "USD")
    with pytest.raises(MalformedUpdateError, match="ISO 4217"):
        parse_money({"amount": "9.90", "currency_code": "euro"}, "x")
    with pytest.raises(MalformedUpdateError, match="no amount"):
        parse_money({"currency_code": "USD"}, "x")


@pytest.mark.parametrize(
    ("code", "carrier"),
    [
        ("CAINIAO_STANDARD", "cainiao"),
        ("AE_CAINIAO_STANDARD", "cainiao"),
        ("CPAM", "china_post"),
        ("YANWEN_JYT", "yanwen"),
        ("EMS_ZX_ZX_US", "ems"),
        ("SF_EXPRESS", "sf_express"),
        ("DHL", "dhl"),
        ("SFC_EU", "other"),
        ("", "other"),
    ],
)
def test_logistics_codes_map_to_carriers(code, carrier):
    assert AE.carrier_code(code) == carrier


# -- the status mapping, applied to fresh orders ----------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("marketplace_settings")
@pytest.mark.parametrize(
    ("status", "state", "transitions"),
    [
        ("PLACE_ORDER_SUCCESS", "pending_payment", []),
        ("RISK_CONTROL", "payment_review", ["hold_for_payment_review"]),
        ("WAIT_SELLER_EXAMINE_MONEY", "payment_review", ["hold_for_payment_review"]),
        ("WAIT_SELLER_SEND_GOODS", "awaiting_shipment", ["confirm_payment"]),
        ("SELLER_PART_SEND_GOODS", "partially_shipped", ["confirm_payment", "ship_partially"]),
        ("WAIT_BUYER_ACCEPT_GOODS", "shipped", ["confirm_payment", "ship"]),
        ("FUND_PROCESSING", "completed", ["confirm_payment", "ship", "mark_delivered", "complete"]),
        ("IN_CANCEL", "cancelled", ["cancel"]),
        ("IN_FROZEN", "frozen", ["freeze"]),
        ("IN_ISSUE", "in_dispute", ["confirm_payment", "ship", "open_dispute"]),
        ("FINISH", "cancelled", ["cancel"]),  # closed before anything shipped
    ],
)
def test_each_status_walks_a_new_order_to_its_state(status, state, transitions):
    summary = sync_pages(get_adapter("aliexpress"), [page(item(status=status))])
    order = Order.objects.get(number="8185430916770001")
    assert order.state == state
    [row] = log_rows()
    assert row.transitions == transitions
    assert row.outcome == (Outcome.APPLIED if transitions else Outcome.IGNORED)
    assert (summary.applied, summary.failed) == ((1, 0) if transitions else (0, 0))
    assert row.order == order
    assert row.target_state == state


@pytest.mark.django_db
@pytest.mark.usefixtures("marketplace_settings")
def test_finish_after_shipping_completes_and_sends_the_delivered_email():
    adapter = get_adapter("aliexpress")
    sync_pages(adapter, [page(item(status="WAIT_BUYER_ACCEPT_GOODS"))])
    sync_pages(
        adapter, [page(item(status="FINISH", when="2024-03-20 10:00:00", end_reason="buyer_accept_goods"))]
    )
    order = Order.objects.get(number="8185430916770001")
    assert order.state == "completed"
    emails = mail(order)
    assert emails[MailEvent.DELIVERED] == [(Status.QUEUED, "")]
    assert emails["feedback_request"][0][0] == Status.SCHEDULED


@pytest.mark.django_db
@pytest.mark.usefixtures("marketplace_settings")
def test_finish_with_logistics_evidence_on_a_first_seen_order_completes():
    raw = item(
        status="FINISH",
        end_reason="buyer_accept_goods_timeout",
        logistics_status="BUYER_ACCEPT_GOODS",
        logistic_info_list={
            "global_aeop_tp_logistic_info_dto": [
                {"logistics_no": "LP00111122223333", "logistics_type_code": "CAINIAO_STANDARD"}
            ]
        },
    )
    sync_pages(get_adapter("aliexpress"), [page(raw)])
    order = Order.objects.get(number="8185430916770001")
    assert order.state == "completed"
    [shipment] = Shipment.for_order(order)
    assert (shipment.carrier, shipment.tracking_number) == ("cainiao", "LP00111122223333")
    assert mail(order)[MailEvent.SHIPPING_CONFIRMATION] == [(Status.QUEUED, "")]
