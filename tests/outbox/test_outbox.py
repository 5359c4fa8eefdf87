"""The outbox: enqueue, idempotency keys, publish, staff actions."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from django_order_mail.delivery import tasks
from django_order_mail.events import MailEvent
from django_order_mail.outbox import actions
from django_order_mail.outbox import enqueue as enqueue_module
from django_order_mail.outbox.enqueue import PendingMail, enqueue, idempotency_key
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


def write(order, *pending):
    with transaction.atomic():
        return enqueue(order, list(pending))


# -- enqueue ----------------------------------------------------------------------


def test_enqueue_twice_writes_one_row(order, no_broker):
    first = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    second = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    assert len(first) == 1
    assert second == []
    assert OutboxEmail.objects.count() == 1


def test_enqueue_returns_only_new_rows_of_a_mixed_batch(order, no_broker):
    write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    created = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.DELIVERED))
    assert [r.event for r in created] == [MailEvent.DELIVERED]
    assert OutboxEmail.objects.count() == 2


def test_enqueue_nothing_is_a_no_op(order, no_broker):
    assert write(order) == []
    assert OutboxEmail.objects.count() == 0


def test_enqueue_past_send_after_is_queued_future_is_scheduled(order, no_broker):
    now = timezone.now()
    [past] = write(order, PendingMail(MailEvent.DELIVERED, send_after=now - timedelta(minutes=1)))
    [future] = write(order, PendingMail("feedback_request", send_after=now + timedelta(hours=1)))
    assert past.status == Status.QUEUED
    assert past.enqueued_at is not None
    assert future.status == Status.SCHEDULED
    assert future.enqueued_at is None


def test_idempotency_key_format(order):
    shipment = order.add_shipment("ups", "1Z")
    assert idempotency_key(order, "refund") == f"testapp.order:{order.pk}:refund:-"
    assert (
        idempotency_key(order, "shipping_update", shipment, "ups:1Z")
        == f"testapp.order:{order.pk}:shipping_update:{shipment.pk}:ups:1Z"
    )


def test_long_discriminator_is_hashed_but_distinct(order):
    a = idempotency_key(order, "order_edited", discriminator="x" * 100)
    b = idempotency_key(order, "order_edited", discriminator="x" * 99 + "y")
    assert a != b
    assert len(a) <= 255
    assert len(a.rsplit(":", 1)[1]) == 40


def test_keys_longer_than_255_are_shortened_and_stay_unique():
    long_a = Order(pk="A" * 300)
    long_b = Order(pk="A" * 299 + "B")  # same first 299 characters
    key_a = idempotency_key(long_a, "order_confirmation")
    key_b = idempotency_key(long_b, "order_confirmation")
    assert len(key_a) <= 255
    assert len(key_b) <= 255
    assert key_a != key_b
    assert key_a.startswith("testapp.order:AAAA")
    # deterministic: the same order and event always give the same key
    assert key_a == idempotency_key(Order(pk="A" * 300), "order_confirmation")


def test_enqueue_refuses_to_lose_a_row_silently(order, no_broker, monkeypatch):
    """SQLite's INSERT OR IGNORE swallows a NOT NULL violation as silently as
    a duplicate key (PostgreSQL's ON CONFLICT DO NOTHING raises it); either
    way the transition must fail loudly rather than lose the email."""
    monkeypatch.setattr(enqueue_module, "idempotency_key", lambda *args, **kwargs: None)
    with pytest.raises((RuntimeError, IntegrityError)) as raised:
        write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    if connection.vendor == "sqlite":
        assert "could not be written" in str(raised.value)
    assert not OutboxEmail.objects.exists()


def test_enqueue_returns_only_the_rows_it_inserted(order, no_broker):
    first = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.PAYMENT_FAILED))
    second = write(
        order, PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.SHIPPING_CONFIRMATION)
    )
    assert all(row.pk for row in first + second)
    assert [row.event for row in second] == [MailEvent.SHIPPING_CONFIRMATION]
    assert OutboxEmail.objects.get(pk=second[0].pk).idempotency_key == second[0].idempotency_key
    assert OutboxEmail.objects.count() == 3


# -- publish --------------------------------------------------------------------------


def test_publish_sends_the_ids_in_batches(monkeypatch, mail_settings):
    mail_settings(CELERY_QUEUE="mail", DELIVERY_BATCH_SIZE=2)
    calls = []
    monkeypatch.setattr(tasks.send_emails, "apply_async", lambda **kw: calls.append(kw))
    assert enqueue_module.publish([1, 2, 3], countdown=30) == 3
    assert [c["args"] for c in calls] == [[[1, 2]], [[3]]]
    assert all(c["queue"] == "mail" and c["countdown"] == 30 and c["retry"] is True for c in calls)
    assert calls[0]["retry_policy"]["max_retries"] == 1
    assert calls[0]["producer"] is calls[1]["producer"]  # one broker connection for the list


def test_publish_stops_after_first_broker_error(monkeypatch, mail_settings):
    mail_settings(DELIVERY_BATCH_SIZE=2)
    calls = []

    def apply_async(**kwargs):
        calls.append(kwargs["args"][0])
        if len(calls) == 2:
            raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_emails, "apply_async", apply_async)
    assert enqueue_module.publish([11, 12, 13, 14, 15, 16]) == 2
    assert calls == [[11, 12], [13, 14]]  # did not wait out the retry policy for 15 and 16


def test_publish_without_countdown_or_queue(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.send_emails, "apply_async", lambda **kw: calls.append(kw))
    enqueue_module.publish([5])
    assert "countdown" not in calls[0]
    assert "queue" not in calls[0]


def test_rows_stay_queued_when_the_broker_is_down(order, monkeypatch, django_capture_on_commit_callbacks):
    def broken(**kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_emails, "apply_async", broken)
    with django_capture_on_commit_callbacks(execute=True):
        order.confirm_payment()
        order.save()  # must not raise
    assert OutboxEmail.objects.get().status == Status.QUEUED


# -- staff actions ---------------------------------------------------------------------


def make_row(order, event=MailEvent.ORDER_CONFIRMATION, **fields):
    [row] = write(order, PendingMail(event))
    if fields:
        OutboxEmail.objects.filter(pk=row.pk).update(**fields)
        row.refresh_from_db()
    return row


def test_resend_creates_a_linked_queued_copy(order, no_broker, django_capture_on_commit_callbacks):
    row = make_row(order, status=Status.SENT, attempts=1, esp_message_id="m-1")
    with django_capture_on_commit_callbacks(execute=True):
        copy = actions.resend(row, by="alice")
    assert copy.pk != row.pk
    assert copy.status == Status.QUEUED
    assert copy.resend_of_id == row.pk
    assert copy.idempotency_key != row.idempotency_key
    assert copy.idempotency_key.startswith(row.idempotency_key + ":resend:")
    assert (copy.event, copy.object_id, copy.recipient) == (row.event, row.object_id, row.recipient)
    assert copy.attempts == 0
    assert copy.esp_message_id == ""
    assert no_broker[-1] == copy.pk
    assert EmailLog.objects.get(email=copy).message == f"resend of #{row.pk} by alice"
    # a second resend is another row, not a collision
    second = actions.resend(row)
    assert second.idempotency_key != copy.idempotency_key
    assert row.resends.count() == 2
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_resend_of_a_row_with_a_long_key_fits(order, no_broker):
    row = make_row(order, idempotency_key="k" * 255)
    copy = actions.resend(row)
    assert len(copy.idempotency_key) <= 255


def test_retry_only_failed_rows_and_resets_attempts(order, no_broker, django_capture_on_commit_callbacks):
    row = make_row(
        order,
        status=Status.FAILED,
        attempts=8,
        last_error="gave up",
        send_after=timezone.now() + timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry(row, by="bob") is True
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.attempts == 0
    assert row.send_after is None
    assert no_broker == [row.pk]
    assert EmailLog.objects.filter(email=row, message="retry by bob").exists()


@pytest.mark.parametrize("status", [Status.SENT, Status.QUEUED, Status.SCHEDULED, Status.SKIPPED])
def test_retry_refuses_rows_that_did_not_fail(order, no_broker, status):
    row = make_row(order, status=status, attempts=3)
    assert actions.retry(row) is False
    row.refresh_from_db()
    assert row.status == status
    assert row.attempts == 3
    assert not EmailLog.objects.filter(email=row).exists()


@pytest.mark.parametrize("status", [Status.SCHEDULED, Status.QUEUED])
def test_cancel_unsent_rows(order, no_broker, status):
    row = make_row(order, status=status)
    assert actions.cancel(row, by="carol") is True
    row.refresh_from_db()
    assert row.status == Status.CANCELLED
    assert row.last_error == "cancelled by staff (carol)"
    assert EmailLog.objects.get(email=row).status == Status.CANCELLED


@pytest.mark.parametrize("status", [Status.SENT, Status.SENDING, Status.FAILED, Status.SKIPPED])
def test_cancel_refuses_other_rows(order, no_broker, status):
    row = make_row(order, status=status)
    assert actions.cancel(row) is False
    row.refresh_from_db()
    assert row.status == status
