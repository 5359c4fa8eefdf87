"""The outbox rows of staff notifications: written in the transition's
transaction, one per recipient, never doubled, never to the customer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from django_order_mail.events import StaffEvent, skip_reason
from django_order_mail.notifications.rows import NOT_NOTIFIED, recipient_key
from django_order_mail.outbox.enqueue import PendingMail, enqueue, idempotency_key
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory

from .helpers import paid_order, set_up, staff_rows

pytestmark = pytest.mark.django_db

NEW = StaffEvent.NEW_ORDER
HIGH = StaffEvent.HIGH_VALUE_ORDER
RING = [("Gold ring", 1, "900.00")]  # total 994.90 with shipping and tax (tests.testapp)


def test_nothing_is_written_until_staff_set_it_up(broker):
    order = paid_order()
    assert list(OutboxEmail.for_order(order).values_list("event", flat=True)) == ["order_confirmation"]


def test_confirm_payment_writes_one_queued_row_per_recipient(
    broker, django_user_model, django_capture_on_commit_callbacks
):
    anna = django_user_model.objects.create_user("anna", "anna@shop.example", is_staff=True)
    set_up(NEW, "orders@shop.example\nLager@Shop.example", users=[anna])
    with django_capture_on_commit_callbacks(execute=True):
        order = paid_order(email="tina@example.com")
    rows = sorted(staff_rows(order, NEW), key=lambda r: r.recipient.lower())
    assert [r.recipient for r in rows] == ["anna@shop.example", "Lager@Shop.example", "orders@shop.example"]
    assert {r.status for r in rows} == {Status.QUEUED}
    assert "tina@example.com" not in {r.recipient for r in rows}
    base = idempotency_key(order, NEW)
    assert {r.idempotency_key for r in rows} == {
        recipient_key(base, a) for a in ("anna@shop.example", "lager@shop.example", "orders@shop.example")
    }
    assert all("shop.example" not in r.idempotency_key for r in rows)  # no address in the key
    published = [pk for ids, _countdown in broker for pk in ids]
    assert {r.pk for r in rows} <= set(published)  # handed to the broker after commit


def test_rows_roll_back_with_the_transition(broker):
    set_up(NEW, "orders@shop.example")
    order = OrderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        order.confirm_payment()
        order.save()
        raise RuntimeError("payment callback failed after the save")
    assert not OutboxEmail.objects.filter(event=NEW).exists()


def test_writing_the_same_event_twice_doubles_nothing(broker):
    set_up(NEW, "orders@shop.example, boss@shop.example")
    order = paid_order()
    first = set(staff_rows(order, NEW).values_list("pk", flat=True))
    with transaction.atomic():  # a second process, a retried webhook: the same event again
        assert enqueue(order, [PendingMail(NEW)]) == []
    assert set(staff_rows(order, NEW).values_list("pk", flat=True)) == first


def test_changed_recipients_do_not_repeat_an_event_already_written(broker):
    row = set_up(NEW, "orders@shop.example")
    order = paid_order()
    row.emails = "orders@shop.example\nnew.colleague@shop.example"
    row.save()
    with transaction.atomic():
        assert enqueue(order, [PendingMail(NEW)]) == []
    assert list(staff_rows(order, NEW).values_list("recipient", flat=True)) == ["orders@shop.example"]


def test_inactive_and_former_staff_users_get_nothing(broker, django_user_model):
    gone = django_user_model.objects.create_user("ola", "ola@shop.example", is_staff=True, is_active=False)
    demoted = django_user_model.objects.create_user("per", "per@shop.example", is_staff=False)
    set_up(NEW, "orders@shop.example", users=[gone, demoted])
    order = paid_order()
    assert list(staff_rows(order, NEW).values_list("recipient", flat=True)) == ["orders@shop.example"]


def test_nobody_left_to_tell_is_one_skipped_row_with_the_reason(broker, django_user_model):
    gone = django_user_model.objects.create_user("ola", "ola@shop.example", is_staff=True, is_active=False)
    set_up(NEW, users=[gone])
    order = paid_order()
    [row] = staff_rows(order, NEW)
    assert row.status == Status.SKIPPED and row.recipient == ""
    assert "no active recipient" in row.last_error
    assert row.idempotency_key == idempotency_key(order, NEW)


def test_switched_off_writes_nothing(broker):
    set_up(NEW, "orders@shop.example", enabled=False)
    assert not staff_rows(paid_order(), NEW).exists()


def test_marketplace_channel_rules_do_not_stop_staff_mail(broker):
    set_up(NEW, "orders@shop.example")
    for channel in ("amazon_fba", "amazon_fbm", "aliexpress"):
        order = paid_order(sales_channel=channel)
        confirmation = OutboxEmail.for_order(order).get(event="order_confirmation")
        assert confirmation.status == Status.SKIPPED  # the marketplace tells the buyer
        assert staff_rows(order, NEW).get().status == Status.QUEUED  # staff still hear of the order
    assert skip_reason(NEW, "amazon_fba") is None


def test_a_channel_that_lists_its_events_does_not_need_to_name_staff_events(broker, mail_settings):
    mail_settings(CHANNELS={"wholesale": {"events": ["shipping_confirmation"], "reason": "B2B portal"}})
    set_up(NEW, "orders@shop.example")
    order = paid_order(sales_channel="wholesale")
    assert staff_rows(order, NEW).get().status == Status.QUEUED


def test_disabled_events_still_switch_staff_mail_off_with_a_reason(broker, mail_settings):
    mail_settings(DISABLED_EVENTS=[NEW])
    set_up(NEW, "orders@shop.example")
    [row] = staff_rows(paid_order(), NEW)
    assert row.status == Status.SKIPPED and "DISABLED_EVENTS" in row.last_error


def test_notify_false_tells_nobody(broker):
    """A back-fill (marketplace sync --no-notify) must not flood the team."""
    set_up(NEW, "orders@shop.example")
    order = OrderFactory()
    with transaction.atomic():
        order.confirm_payment(notify=False)
        order.save()
    [row] = staff_rows(order, NEW)
    assert (row.status, row.last_error) == (Status.SKIPPED, NOT_NOTIFIED)


def test_an_order_without_a_customer_address_still_reaches_staff(broker):
    set_up(NEW, "orders@shop.example")
    order = paid_order(email="")
    assert OutboxEmail.for_order(order).get(event="order_confirmation").status == Status.SKIPPED
    assert staff_rows(order, NEW).get().status == Status.QUEUED


def test_rows_are_in_the_shops_language_not_the_customers(broker, settings):
    settings.LANGUAGE_CODE = "de"
    set_up(NEW, "orders@shop.example")
    order = paid_order(language="nb")
    assert OutboxEmail.for_order(order).get(event="order_confirmation").language == "nb"
    assert staff_rows(order, NEW).get().language == "de"


# -- high-value orders -------------------------------------------------------------------------------------


def test_an_order_at_or_over_the_threshold_writes_the_high_value_row(broker):
    set_up(HIGH, "boss@shop.example", threshold="500", currency="usd")
    order = paid_order(lines=RING, currency="USD")
    row = staff_rows(order, HIGH).get()
    assert row.status == Status.QUEUED and row.recipient == "boss@shop.example"
    assert row.extra == {"order_total": "994.90", "threshold": "500.00", "threshold_currency": "USD"}


def test_the_threshold_itself_counts(broker):
    set_up(HIGH, "boss@shop.example", threshold="43.29", currency="USD")
    assert staff_rows(paid_order(), HIGH).exists()  # 2 × 12.50 + 9.90 + 4.90 + 3.49 = 43.29


def test_an_order_below_the_threshold_writes_nothing(broker):
    set_up(HIGH, "boss@shop.example", threshold="500", currency="USD")
    set_up(NEW, "orders@shop.example")
    order = paid_order(currency="USD")  # 43.29
    assert not staff_rows(order, HIGH).exists()
    assert staff_rows(order, NEW).exists()


def test_an_order_in_another_currency_is_not_compared(broker):
    set_up(HIGH, "boss@shop.example", threshold="500", currency="EUR")
    assert not staff_rows(paid_order(lines=RING, currency="JPY"), HIGH).exists()


def test_an_order_in_another_currency_is_compared_with_that_currencys_threshold(broker):
    row = set_up(HIGH, "boss@shop.example", threshold="500", currency="EUR")
    row.other_thresholds.create(currency="NOK", threshold=Decimal("5000"))
    row.other_thresholds.create(currency="JPY", threshold=Decimal("990"))
    assert not staff_rows(paid_order(lines=RING, currency="NOK"), HIGH).exists()  # 994.90 NOK
    big = paid_order(lines=[("Gold ring", 6, "900.00")], currency="nok")  # 5,944.90
    assert staff_rows(big, HIGH).get().extra == {
        "order_total": "5944.90",
        "threshold": "5000.00",
        "threshold_currency": "NOK",
    }
    assert staff_rows(paid_order(lines=RING, currency="JPY"), HIGH).get().extra["threshold_currency"] == "JPY"
    assert not staff_rows(paid_order(lines=RING, currency="GBP"), HIGH).exists()  # no threshold in GBP
    eur = staff_rows(paid_order(lines=RING, currency="EUR"), HIGH).get()
    assert eur.extra["threshold"] == "500.00"


def test_the_usual_order_reads_no_other_threshold(broker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    set_up(HIGH, "boss@shop.example", threshold="500", currency="USD")
    with CaptureQueriesContext(connection) as queries:
        paid_order(lines=RING, currency="USD")
    assert not [q for q in queries if "highvaluethreshold" in q["sql"].lower()]
    with CaptureQueriesContext(connection) as queries:
        paid_order(lines=RING, currency="EUR")
    assert len([q for q in queries if "highvaluethreshold" in q["sql"].lower()]) == 1


def test_a_broken_totals_hook_does_not_fail_the_transition(broker, monkeypatch):
    from tests.testapp.models import Order

    set_up(HIGH, "boss@shop.example", threshold="1", currency="USD")

    def broken(self):
        raise ZeroDivisionError("tax table missing")

    monkeypatch.setattr(Order, "get_mail_totals", broken)
    order = paid_order()
    assert order.state == "awaiting_shipment"
    assert not staff_rows(order, HIGH).exists()
    assert OutboxEmail.for_order(order).filter(event="order_confirmation").exists()


# -- a shop's own internal event --------------------------------------------------------------------------


@pytest.fixture
def pickup_desk_event():
    """A shop's own internal event fired by its own transition."""
    from django_order_mail import events

    name = "pickup_desk_alert"
    events.register_event(name, "Pickup desk (staff)", internal=True, transitions=["mark_ready_for_pickup"])
    yield name
    events._registry.pop(name, None)


def test_a_shops_own_internal_event_goes_to_the_support_address_never_the_customer(broker, pickup_desk_event):
    order = paid_order(email="tina@example.com")
    with transaction.atomic():
        order.mark_ready_for_pickup(pickup_point="Storgata 15")
        order.save()
    row = OutboxEmail.for_order(order).get(event=pickup_desk_event)
    assert row.recipient == "help@shop.example"  # BRANDING["support_email"] of tests.settings
    assert row.extra == {"pickup_point": "Storgata 15"}


def test_a_shops_own_internal_event_follows_the_admin(broker, pickup_desk_event):
    set_up(pickup_desk_event, "desk@shop.example")
    order = paid_order()
    with transaction.atomic():
        order.mark_ready_for_pickup()
        order.save()
    assert OutboxEmail.for_order(order).get(event=pickup_desk_event).recipient == "desk@shop.example"


def test_an_internal_event_cannot_be_commercial():
    from django_order_mail.events import register_event

    with pytest.raises(ValueError, match="cannot be commercial"):
        register_event("staff_promo", "Staff promo", internal=True, commercial=True)


# -- what it costs a paid order -----------------------------------------------------------------------------


def staff_queries(order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        order.confirm_payment()
        order.save()
    sql = [q["sql"] for q in captured.captured_queries]
    return (
        [q for q in sql if "staffnotification" in q],
        [q for q in sql if q.startswith('SELECT "django_order_mail_outboxemail"."idempotency_key"')],
    )


def test_a_shop_without_staff_notifications_pays_one_small_query(broker):
    config, keys = staff_queries(OrderFactory())
    assert len(config) == 1 and keys == []  # both staff events' settings in one query


def test_set_up_both_read_their_settings_and_the_orders_keys_once(broker, django_user_model):
    anna = django_user_model.objects.create_user("anna", "anna@shop.example", is_staff=True)
    set_up(NEW, "orders@shop.example", users=[anna])
    set_up(HIGH, "boss@shop.example", threshold="1", currency="USD")
    config, keys = staff_queries(OrderFactory())
    assert len(config) == 2 and len(keys) == 1  # the rows and their users; the order's staff keys
