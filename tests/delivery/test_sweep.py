"""The periodic sweep re-drives rows the broker lost (delivery/sweep.py)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from django_order_mail.delivery import sender
from django_order_mail.delivery.sender import claim, deliver
from django_order_mail.delivery.sweep import dispatch_due, release_stuck, requeue_stale, sweep
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def new_row(order, event=MailEvent.ORDER_CONFIRMATION, send_after=None):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event, send_after=send_after)])
    return row


def set_fields(row, **fields):
    OutboxEmail.objects.filter(pk=row.pk).update(**fields)
    row.refresh_from_db()
    return row


def published_ids(broker):
    return [pk for ids, _countdown in broker for pk in ids]


# -- scheduled -> queued ---------------------------------------------------------------------------


def test_due_scheduled_row_is_queued_and_published(order, broker):
    now = timezone.now()
    row = new_row(order, "feedback_request", send_after=now + timedelta(days=7))
    assert row.status == Status.SCHEDULED
    later = now + timedelta(days=7, seconds=1)
    counts = sweep(now=later)
    assert counts["due"] == 1
    assert counts["due_published"] == 1
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.enqueued_at == later
    assert published_ids(broker) == [row.pk]
    assert EmailLog.objects.filter(email=row, message="scheduled time reached").exists()


def test_scheduled_row_not_due_is_untouched(order, broker):
    now = timezone.now()
    row = new_row(order, "feedback_request", send_after=now + timedelta(days=7))
    counts = sweep(now=now + timedelta(days=6, hours=23))
    assert counts["due"] == 0
    row.refresh_from_db()
    assert row.status == Status.SCHEDULED
    assert row.enqueued_at is None
    assert broker == []


def test_dispatched_scheduled_row_can_be_delivered(order, broker, esp):
    row = new_row(order, MailEvent.DELIVERED, send_after=timezone.now() + timedelta(hours=1))
    set_fields(row, send_after=timezone.now() - timedelta(seconds=1))
    assert dispatch_due() == [row.pk]
    assert deliver(row.pk) == Status.SENT


def test_cancelled_scheduled_row_is_not_dispatched(order, broker):
    row = new_row(order, "feedback_request", send_after=timezone.now() + timedelta(days=1))
    set_fields(row, status=Status.CANCELLED)
    assert dispatch_due(now=timezone.now() + timedelta(days=2)) == []


# -- queued rows the broker lost ---------------------------------------------------------------------


def test_old_queued_row_is_republished_and_bumped(order, broker):
    row = new_row(order)
    now = timezone.now()
    set_fields(row, enqueued_at=now - timedelta(seconds=121))
    counts = sweep(now=now)
    assert counts["requeued"] == 1
    assert counts["requeued_published"] == 1
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.enqueued_at == now
    assert published_ids(broker) == [row.pk]
    # bumped: the next sweep right after leaves it alone
    assert requeue_stale(now=now + timedelta(seconds=1)) == []


def test_recent_queued_row_is_untouched(order, broker):
    row = new_row(order)
    now = timezone.now()
    set_fields(row, enqueued_at=now - timedelta(seconds=60))
    counts = sweep(now=now)
    assert counts["requeued"] == 0
    row.refresh_from_db()
    assert row.enqueued_at == now - timedelta(seconds=60)
    assert broker == []


def test_queued_retry_waiting_for_its_delay_is_untouched(order, broker):
    """A row waiting out a retry delay is not published before it is due."""
    row = new_row(order)
    now = timezone.now()
    set_fields(row, enqueued_at=now - timedelta(seconds=600), send_after=now + timedelta(seconds=300))
    assert requeue_stale(now=now) == []


def test_requeue_after_setting(order, broker, mail_settings):
    mail_settings(REQUEUE_AFTER=10)
    row = new_row(order)
    now = timezone.now()
    set_fields(row, enqueued_at=now - timedelta(seconds=11))
    assert requeue_stale(now=now) == [row.pk]


# -- rows stuck in sending ----------------------------------------------------------------------------


def test_row_stuck_in_sending_is_released_with_a_log_line(order, broker):
    row = new_row(order)
    claimed = claim(row.pk)
    now = timezone.now()
    set_fields(row, claimed_at=now - timedelta(seconds=601))
    counts = sweep(now=now)
    assert counts["released"] == 1
    assert counts["released_published"] == 1
    row.refresh_from_db()
    assert row.status == Status.QUEUED
    assert row.claim_token == claimed.claim_token
    assert "released" in row.last_error
    log = EmailLog.objects.filter(email=row).order_by("-id").first()
    assert (log.status, log.message) == (Status.QUEUED, "released: worker stopped while sending")
    assert row.pk in published_ids(broker)


def test_row_recently_claimed_is_not_released(order, broker):
    row = new_row(order)
    claim(row.pk)
    now = timezone.now()
    set_fields(row, claimed_at=now - timedelta(seconds=599))
    assert release_stuck(now=now) == []
    row.refresh_from_db()
    assert row.status == Status.SENDING


def test_released_row_can_be_delivered_by_another_worker(order, broker, esp):
    row = new_row(order)
    claim(row.pk)
    set_fields(row, claimed_at=timezone.now() - timedelta(hours=1))
    release_stuck()
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert row.attempts == 2


def test_slow_worker_records_its_send_after_release_and_no_second_send_happens(order, broker, esp):
    row = new_row(order)
    old = claim(row.pk)  # the slow worker's claim
    set_fields(row, claimed_at=timezone.now() - timedelta(hours=1))
    assert release_stuck() == [row.pk]
    # the slow worker's ESP call returns now and it records the outcome
    assert sender._finish(old, Status.SENT, "accepted late", sent_at=timezone.now(), esp_message_id="late-1")
    row.refresh_from_db()
    assert row.status == Status.SENT
    assert row.esp_message_id == "late-1"
    # the re-published message finds nothing to do
    assert deliver(row.pk) == "not-claimed"
    assert esp.attempts == []


def test_stale_claim_cannot_overwrite_a_newer_claim(order, broker, esp):
    row = new_row(order)
    old = claim(row.pk)
    set_fields(row, claimed_at=timezone.now() - timedelta(hours=1))
    release_stuck()
    assert deliver(row.pk) == Status.SENT  # a second worker sent it with its own claim
    assert sender._finish(old, Status.FAILED, "too late", last_error="too late") is False
    row.refresh_from_db()
    assert row.status == Status.SENT


# -- batches and entry points -------------------------------------------------------------------------------


def test_batch_size_is_respected(broker, mail_settings):
    mail_settings(SWEEP_BATCH_SIZE=2)
    now = timezone.now()
    rows = [
        new_row(OrderFactory(), "feedback_request", send_after=now + timedelta(minutes=i + 1))
        for i in range(3)
    ]
    later = now + timedelta(hours=1)
    first = dispatch_due(now=later)
    assert first == [rows[0].pk, rows[1].pk]  # earliest first
    assert OutboxEmail.objects.filter(status=Status.SCHEDULED).count() == 1
    assert dispatch_due(now=later) == [rows[2].pk]


def test_sweep_on_an_empty_outbox(db, broker):
    assert sweep() == {
        "due": 0,
        "due_published": 0,
        "requeued": 0,
        "requeued_published": 0,
        "released": 0,
        "released_published": 0,
    }
    assert broker == []


def test_sweep_command(order, broker, capsys):
    row = new_row(order, "feedback_request", send_after=timezone.now() - timedelta(seconds=1))
    set_fields(row, status=Status.SCHEDULED, enqueued_at=None)
    call_command("order_mail_sweep")
    assert "due=1" in capsys.readouterr().out
    row.refresh_from_db()
    assert row.status == Status.QUEUED
