"""Order transitions -> outbox rows (lifecycle/mixins.py, lifecycle/signals.py)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.factories import OrderFactory
from tests.testapp.models import LegacyOrder, Order

pytestmark = pytest.mark.django_db


def rows(order):
    return list(OutboxEmail.for_order(order).order_by("id"))


def key(order, event, shipment=None, suffix=""):
    base = f"testapp.order:{order.pk}:{event}:{shipment.pk if shipment else '-'}"
    return f"{base}:{suffix}" if suffix else base


def to_awaiting_shipment(order):
    order.confirm_payment()
    order.save()
    return order


def to_shipped(order):
    to_awaiting_shipment(order)
    shipment = order.add_shipment("ups", "1Z999")
    order.ship(shipment)
    order.save()
    return shipment


def to_delivered(order):
    shipment = to_shipped(order)
    order.mark_delivered()
    order.save()
    return shipment


# -- one transition, one row --------------------------------------------------


def test_confirm_payment_writes_one_queued_confirmation(order, no_broker):
    order.confirm_payment()
    order.save()
    [row] = rows(order)
    assert row.event == MailEvent.ORDER_CONFIRMATION
    assert row.status == Status.QUEUED
    assert row.idempotency_key == key(order, MailEvent.ORDER_CONFIRMATION)
    assert row.recipient == order.email
    assert row.reference == order.number
    assert row.channel == "web"
    assert row.language == "en"
    assert row.shipment is None
    assert row.send_after is None
    assert row.enqueued_at is not None


def test_transition_without_save_writes_nothing(order, no_broker):
    order.confirm_payment()
    assert rows(order) == []


@pytest.mark.parametrize(
    "transition",
    ["hold_for_payment_review", "release_hold_path", "complete_path", "close_dispute_path"],
)
def test_transitions_without_mail_write_nothing_new(order, no_broker, transition):
    if transition == "hold_for_payment_review":
        order.hold_for_payment_review()
        order.save()
        assert rows(order) == []
        return
    if transition == "release_hold_path":
        order.freeze()
        order.save()
        before = len(rows(order))
        order.release_hold()
        order.save()
    elif transition == "complete_path":
        to_delivered(order)
        before = len(rows(order))
        order.complete()
        order.save()
    else:
        to_delivered(order)
        order.open_dispute()
        order.save()
        before = len(rows(order))
        order.close_dispute()
        order.save()
    assert len(rows(order)) == before


def test_fail_payment_writes_payment_failed_with_reason(order, no_broker):
    order.fail_payment("card declined")
    order.save()
    [row] = rows(order)
    assert row.event == MailEvent.PAYMENT_FAILED
    assert row.status == Status.QUEUED
    assert row.idempotency_key == key(order, MailEvent.PAYMENT_FAILED, suffix="attempt-1")
    assert row.extra == {"reason": "card declined"}


def test_fail_payment_twice_gives_two_rows(order, no_broker):
    order.fail_payment("declined")
    order.save()
    order.fail_payment("declined again")
    order.save()
    failed = [r for r in rows(order) if r.event == MailEvent.PAYMENT_FAILED]
    assert [r.idempotency_key for r in failed] == [
        key(order, MailEvent.PAYMENT_FAILED, suffix="attempt-1"),
        key(order, MailEvent.PAYMENT_FAILED, suffix="attempt-2"),
    ]
    assert [r.extra["reason"] for r in failed] == ["declined", "declined again"]


def test_ship_writes_shipping_confirmation_for_the_shipment(order, no_broker):
    shipment = to_shipped(order)
    row = OutboxEmail.for_order(order).get(event=MailEvent.SHIPPING_CONFIRMATION)
    assert row.status == Status.QUEUED
    assert row.shipment_id == shipment.pk
    assert row.idempotency_key == key(order, MailEvent.SHIPPING_CONFIRMATION, shipment)
    assert order.state == "shipped"


def test_full_lifecycle_with_partial_and_final_shipment(order, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        to_awaiting_shipment(order)
        first = order.add_shipment("dhl", "JD0001")
        order.ship_partially(first)
        order.save()
        second = order.add_shipment("posten_bring", "70000")
        order.ship(second)
        order.save()
        order.mark_out_for_delivery(second)
        order.save()
        order.mark_delivered()
        order.save()
        order.complete()
        order.save()

    assert order.state == "completed"
    got = [(r.event, r.shipment_id, r.status) for r in rows(order)]
    assert got == [
        (MailEvent.ORDER_CONFIRMATION, None, Status.QUEUED),
        (MailEvent.SHIPPING_CONFIRMATION, first.pk, Status.QUEUED),
        (MailEvent.SHIPPING_CONFIRMATION, second.pk, Status.QUEUED),
        (MailEvent.OUT_FOR_DELIVERY, second.pk, Status.QUEUED),
        (MailEvent.DELIVERED, None, Status.QUEUED),
        ("feedback_request", None, Status.SCHEDULED),
    ]
    keys = [r.idempotency_key for r in rows(order)]
    assert len(set(keys)) == len(keys)
    assert key(order, MailEvent.SHIPPING_CONFIRMATION, first) in keys
    assert key(order, MailEvent.SHIPPING_CONFIRMATION, second) in keys
    # Only queued rows were handed to the broker; the scheduled one waits for the sweep.
    queued = [r.pk for r in rows(order) if r.status == Status.QUEUED]
    assert sorted(no_broker) == sorted(queued)


def test_shipping_the_same_shipment_twice_writes_one_confirmation(order, no_broker):
    to_awaiting_shipment(order)
    shipment = order.add_shipment("ups", "1Z1")
    order.ship_partially(shipment)
    order.save()
    order.ship_partially(shipment)
    order.save()
    assert OutboxEmail.for_order(order).filter(event=MailEvent.SHIPPING_CONFIRMATION).count() == 1


def test_ship_without_shipment_is_skipped_with_reason(order, no_broker):
    to_awaiting_shipment(order)
    order.ship(None)
    order.save()
    row = OutboxEmail.for_order(order).get(event=MailEvent.SHIPPING_CONFIRMATION)
    assert row.status == Status.SKIPPED
    assert "no shipment" in row.last_error


def test_mark_delivered_schedules_feedback_request(
    order, no_broker, mail_settings, django_capture_on_commit_callbacks
):
    mail_settings(FEEDBACK_DELAY_DAYS=5)
    to_shipped(order)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        order.mark_delivered()
        order.save()
    after = timezone.now()
    delivered = OutboxEmail.for_order(order).get(event=MailEvent.DELIVERED)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    assert delivered.status == Status.QUEUED
    assert feedback.status == Status.SCHEDULED
    assert feedback.enqueued_at is None
    assert before + timedelta(days=5) <= feedback.send_after <= after + timedelta(days=5)
    assert feedback.pk not in no_broker
    assert delivered.pk in no_broker


def test_channel_feedback_delay_overrides_global(order, no_broker, mail_settings):
    mail_settings(CHANNELS={"web": {"feedback_delay_days": 2}}, FEEDBACK_DELAY_DAYS=9)
    to_delivered(order)
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    delay = feedback.send_after - feedback.created_at
    assert timedelta(days=2) - timedelta(seconds=5) < delay < timedelta(days=2, seconds=5)


@pytest.mark.parametrize("transition", ["refund", "open_dispute"])
def test_refund_or_dispute_cancels_the_feedback_request(order, no_broker, transition):
    to_delivered(order)
    before = {r.event for r in rows(order)}
    getattr(order, transition)()
    order.save()
    new_events = [r.event for r in rows(order) if r.event not in before]
    assert new_events == ([MailEvent.REFUND] if transition == "refund" else [])
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    assert feedback.status == Status.CANCELLED
    assert feedback.last_error == f"order moved to {order.state}"
    log = EmailLog.objects.filter(email=feedback, status=Status.CANCELLED).get()
    assert "order moved to" in log.message
    # the delivered email, already queued, is not touched
    assert OutboxEmail.for_order(order).get(event=MailEvent.DELIVERED).status == Status.QUEUED


def test_cancel_cancels_scheduled_email(order, no_broker):
    to_awaiting_shipment(order)
    with transaction.atomic():
        [scheduled] = enqueue(
            order,
            [PendingMail("feedback_request", send_after=timezone.now() + timedelta(days=3))],
        )
    assert scheduled.status == Status.SCHEDULED
    order.cancel("out of stock")
    order.save()
    scheduled.refresh_from_db()
    assert scheduled.status == Status.CANCELLED
    assert scheduled.last_error == "order moved to cancelled"
    assert EmailLog.objects.filter(email=scheduled, status=Status.CANCELLED).count() == 1
    cancellation = OutboxEmail.for_order(order).get(event=MailEvent.CANCELLATION)
    assert cancellation.status == Status.QUEUED
    assert cancellation.extra == {"reason": "out of stock"}


def test_refund_records_amount_and_reason_as_json(order, no_broker):
    to_awaiting_shipment(order)
    order.refund(Decimal("12.50"), reason="damaged")
    order.save()
    row = OutboxEmail.for_order(order).get(event=MailEvent.REFUND)
    assert row.extra == {"amount": "12.50", "reason": "damaged"}


def test_freeze_writes_on_hold_and_cancels_scheduled(order, no_broker):
    with transaction.atomic():
        [scheduled] = enqueue(
            order,
            [PendingMail("feedback_request", send_after=timezone.now() + timedelta(days=3))],
        )
    order.freeze("fraud check")
    order.save()
    assert OutboxEmail.for_order(order).get(event=MailEvent.ORDER_ON_HOLD).status == Status.QUEUED
    scheduled.refresh_from_db()
    assert scheduled.status == Status.CANCELLED


# -- skips ----------------------------------------------------------------------


def test_notify_false_writes_a_skipped_row_with_reason(order, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm_payment(notify=False)
        order.save()
    [row] = rows(order)
    assert row.status == Status.SKIPPED
    assert row.last_error == "staff chose not to notify the customer"
    assert row.enqueued_at is None
    assert no_broker == []


def test_amazon_fba_skips_confirmation_and_shipping_but_schedules_feedback(
    no_broker, django_capture_on_commit_callbacks
):
    order = OrderFactory(sales_channel="amazon_fba")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        to_delivered(order)
    by_event = {r.event: r for r in rows(order)}
    for event in (MailEvent.ORDER_CONFIRMATION, MailEvent.SHIPPING_CONFIRMATION, MailEvent.DELIVERED):
        assert by_event[event].status == Status.SKIPPED, event
        assert by_event[event].last_error == "channel amazon_fba: Amazon sends this email for FBA orders"
        assert by_event[event].channel == "amazon_fba"
    assert by_event["feedback_request"].status == Status.SCHEDULED
    assert callbacks == []  # nothing queued, so nothing to publish
    assert no_broker == []


def test_amazon_fbm_skips_only_the_confirmation(no_broker):
    order = OrderFactory(sales_channel="amazon_fbm")
    to_delivered(order)
    by_event = {r.event: r for r in rows(order)}
    assert by_event[MailEvent.ORDER_CONFIRMATION].status == Status.SKIPPED
    assert "amazon_fbm" in by_event[MailEvent.ORDER_CONFIRMATION].last_error
    assert by_event[MailEvent.SHIPPING_CONFIRMATION].status == Status.QUEUED
    assert by_event[MailEvent.DELIVERED].status == Status.QUEUED
    assert by_event["feedback_request"].status == Status.SCHEDULED


def test_disabled_event_is_skipped(order, no_broker, mail_settings, django_capture_on_commit_callbacks):
    mail_settings(DISABLED_EVENTS=["order_confirmation"])
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm_payment()
        order.save()
    [row] = rows(order)
    assert row.status == Status.SKIPPED
    assert "DISABLED_EVENTS" in row.last_error
    assert no_broker == []


def test_disabled_master_switch_writes_nothing(
    order, no_broker, mail_settings, django_capture_on_commit_callbacks
):
    mail_settings(ENABLED=False)
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm_payment()
        order.save()
    assert order.state == "awaiting_shipment"
    assert rows(order) == []
    assert no_broker == []


def test_order_without_email_address_is_skipped(no_broker):
    order = OrderFactory(email="")
    order.confirm_payment()
    order.save()
    [row] = rows(order)
    assert row.status == Status.SKIPPED
    assert row.last_error == "the order has no email address"


# -- integrity -----------------------------------------------------------------


def test_illegal_transition_raises_and_writes_nothing(order, no_broker):
    shipment = order.add_shipment("ups", "1Z")
    with pytest.raises(TransitionNotAllowed):
        order.ship(shipment)
    order.save()
    assert order.state == "pending_payment"
    assert rows(order) == []


def test_exception_after_save_rolls_back_outbox_rows(order, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        order.confirm_payment()
        order.save()
        assert len(rows(order)) == 1  # written inside the transaction
        raise RuntimeError("payment webhook handler crashed")
    assert rows(order) == []
    assert Order.objects.get(pk=order.pk).state == "pending_payment"
    assert no_broker == []


def test_state_field_is_protected(order):
    with pytest.raises(AttributeError):
        order.state = "shipped"


def test_publish_happens_only_on_commit(order, no_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order.confirm_payment()
        order.save()
    row = OutboxEmail.for_order(order).get()
    assert no_broker == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert no_broker == [row.pk]


# Regression guard: ConcurrentTransitionMixin must come before models.Model in
# OrderMailMixin's MRO, or its _do_update/save/refresh_from_db are shadowed.


def test_stale_instance_fails_with_concurrent_transition(order, no_broker):
    first = Order.objects.get(pk=order.pk)
    stale = Order.objects.get(pk=order.pk)
    first.confirm_payment()
    first.save()
    stale.confirm_payment()
    with pytest.raises(ConcurrentTransition):
        stale.save()
    assert OutboxEmail.for_order(order).count() == 1


def test_stale_instance_cannot_cancel_a_paid_order(order, no_broker):
    first = Order.objects.get(pk=order.pk)
    stale = Order.objects.get(pk=order.pk)
    first.confirm_payment()
    first.save()
    stale.cancel("customer changed their mind")  # legal from the stale in-memory state
    with pytest.raises(ConcurrentTransition):
        stale.save()
    assert Order.objects.get(pk=order.pk).state == "awaiting_shipment"
    assert not OutboxEmail.for_order(order).filter(event=MailEvent.CANCELLATION).exists()


def test_refresh_from_db_works_with_the_protected_state(order, no_broker):
    order.confirm_payment()
    order.save()
    Order.objects.filter(pk=order.pk).update(state="frozen")
    order.refresh_from_db()
    assert order.state == "frozen"


def test_failed_save_does_not_leave_emails_for_the_next_save(order, no_broker):
    first = Order.objects.get(pk=order.pk)
    stale = Order.objects.get(pk=order.pk)
    first.confirm_payment()
    first.save()
    stale.cancel("customer changed their mind")
    with pytest.raises(ConcurrentTransition):
        stale.save()
    stale.refresh_from_db()  # the usual recovery: reload, then carry on
    assert stale.state == "awaiting_shipment"
    stale.customer_name = "Tina B."
    stale.save()
    assert not OutboxEmail.for_order(order).filter(event=MailEvent.CANCELLATION).exists()


def test_unsaved_transition_discarded_by_refresh_writes_nothing(order, no_broker):
    order.confirm_payment()
    order.refresh_from_db()  # changed our mind: back to the database state
    assert order.state == "pending_payment"
    order.customer_name = "Tina B."
    order.save()
    assert rows(order) == []


def test_same_transition_twice_collapses_on_the_idempotency_key(order, no_broker):
    """The unique key is the last line of defence, whatever the FSM does."""
    first = Order.objects.get(pk=order.pk)
    stale = Order.objects.get(pk=order.pk)
    first.confirm_payment()
    first.save()
    stale.confirm_payment()
    try:
        stale.save()
    except ConcurrentTransition:
        pass
    assert OutboxEmail.for_order(order).filter(event=MailEvent.ORDER_CONFIRMATION).count() == 1


# -- notifications outside transitions ----------------------------------------------


def test_shipping_update_once_per_shipment_carrier_and_tracking(order, no_broker):
    shipment = to_shipped(order)
    first = order.notify_shipping_update(shipment)
    assert len(first) == 1
    assert first[0].idempotency_key == key(order, MailEvent.SHIPPING_UPDATE, shipment, "ups:1Z999")
    assert order.notify_shipping_update(shipment) == []
    shipment.tracking_number = "1Z888"
    shipment.save()
    second = order.notify_shipping_update(shipment)
    assert len(second) == 1
    shipment.carrier = "dhl"
    shipment.save()
    assert len(order.notify_shipping_update(shipment)) == 1
    updates = OutboxEmail.for_order(order).filter(event=MailEvent.SHIPPING_UPDATE)
    assert updates.count() == 3
    assert set(updates.values_list("shipment_id", flat=True)) == {shipment.pk}


def test_order_edited_before_shipping_then_refused_after(order, no_broker):
    to_awaiting_shipment(order)
    [row] = order.notify_order_edited(["Size M → L"])
    assert row.event == MailEvent.ORDER_EDITED
    assert row.extra == {"changes": ["Size M → L"]}
    assert order.notify_order_edited(["Size M → L"]) == []  # same change: same key
    assert len(order.notify_order_edited(["Colour red → blue"])) == 1
    shipment = order.add_shipment("ups", "1Z")
    order.ship(shipment)
    order.save()
    with pytest.raises(ValueError, match="shipped"):
        order.notify_order_edited(["Size L → XL"])
    assert OutboxEmail.for_order(order).filter(event=MailEvent.ORDER_EDITED).count() == 2


# -- a shop's own state machine ----------------------------------------------------


def test_legacy_order_mail_transitions(no_broker):
    legacy = LegacyOrder.objects.create(ref="L-1", email="old@example.com")
    legacy.pay()
    legacy.save()
    shipment = legacy.add_shipment("gls", "GLS1")
    legacy.dispatch(shipment)
    legacy.save()
    got = list(OutboxEmail.for_order(legacy).order_by("id"))
    assert [(r.event, r.status, r.shipment_id) for r in got] == [
        (MailEvent.ORDER_CONFIRMATION, Status.QUEUED, None),
        (MailEvent.SHIPPING_CONFIRMATION, Status.QUEUED, shipment.pk),
    ]
    assert got[0].idempotency_key == f"testapp.legacyorder:{legacy.pk}:order_confirmation:-"
    assert got[1].idempotency_key == f"testapp.legacyorder:{legacy.pk}:shipping_confirmation:{shipment.pk}"
    assert got[0].reference == "L-1"
    assert got[0].recipient == "old@example.com"
    assert got[0].content_type.model == "legacyorder"
