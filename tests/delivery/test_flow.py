"""A send task keeps claiming due rows while its sending threads have room
(``django_order_mail.delivery.flow``). One sending thread here (the unit
tests' database transaction is invisible to other threads); the threads
themselves are tested in tests/integration/test_keep_claiming.py."""

from datetime import timedelta

import pytest
from django.utils import timezone

from django_order_mail.delivery import flow
from django_order_mail.delivery.claim import claim_due
from django_order_mail.delivery.sender import deliver_batch
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.delivery.test_batch import confirmed_rows

pytestmark = pytest.mark.django_db


def statuses(rows):
    found = dict(OutboxEmail.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "status"))
    return [found[r.pk] for r in rows]


def test_a_task_sends_other_due_rows_too_oldest_first(broker, esp, mail_settings):
    mail_settings(DELIVERY_BATCH_SIZE=2)  # claimed two at a time
    rows = confirmed_rows(6)
    later = rows[4]
    OutboxEmail.objects.filter(pk=later.pk).update(send_after=timezone.now() + timedelta(minutes=5))
    now = timezone.now()
    for age, row in enumerate(rows):  # the last row was queued first
        OutboxEmail.objects.filter(pk=row.pk).update(enqueued_at=now - timedelta(seconds=age))

    outcomes = deliver_batch([rows[0].pk], keep_claiming=30)

    due = [r for r in rows if r is not later]
    assert outcomes == {r.pk: Status.SENT for r in due}
    assert statuses(rows) == [Status.SENT] * 4 + [Status.QUEUED, Status.SENT]  # a retry's backoff waits
    # Its own row first, then the others two at a time in the order they were queued.
    sent = [m.to[0] for m in esp.sent]
    assert sent[0] == rows[0].recipient
    assert set(sent[1:3]) == {rows[5].recipient, rows[3].recipient}
    assert set(sent[3:]) == {rows[2].recipient, rows[1].recipient}


def test_without_keep_claiming_a_task_sends_only_its_own_rows(broker, esp):
    rows = confirmed_rows(3)
    assert deliver_batch([rows[1].pk]) == {rows[1].pk: Status.SENT}
    assert statuses(rows) == [Status.QUEUED, Status.SENT, Status.QUEUED]


def test_claiming_stops_at_the_deadline(broker, esp, monkeypatch, mail_settings):
    mail_settings(DELIVERY_BATCH_SIZE=1)  # one row per look
    rows = confirmed_rows(3)
    now = [1000.0]
    monkeypatch.setattr(flow, "clock", lambda: now[0])
    original = flow.deliver_one

    def slow_send(row):
        now[0] += 6  # two sends take longer than keep_claiming
        return original(row)

    monkeypatch.setattr(flow, "deliver_one", slow_send)
    outcomes = deliver_batch([rows[0].pk], keep_claiming=10)
    assert outcomes == {rows[0].pk: Status.SENT, rows[1].pk: Status.SENT}
    assert statuses(rows) == [Status.SENT, Status.SENT, Status.QUEUED]  # left to its own message


def test_claim_due_takes_only_due_queued_rows_and_each_once(broker, esp, mail_settings):
    rows = confirmed_rows(4)
    OutboxEmail.objects.filter(pk=rows[0].pk).update(status=Status.SENT)
    OutboxEmail.objects.filter(pk=rows[1].pk).update(send_after=timezone.now() + timedelta(minutes=1))
    first = claim_due(10)
    assert [r.pk for r in first] == [rows[2].pk, rows[3].pk]
    assert all(r.status == Status.SENDING and r.attempts == 1 for r in first)
    assert claim_due(10) == []  # claimed rows are no longer queued
    assert claim_due(0) == []


def test_the_task_of_a_message_keeps_claiming_only_in_a_worker(broker, esp):
    """Called as a function (or eagerly, in the thread that committed) the
    task sends its own rows only."""
    from django_order_mail.delivery import tasks

    rows = confirmed_rows(2)
    assert tasks.send_emails([rows[0].pk]) == {rows[0].pk: Status.SENT}
    assert statuses(rows) == [Status.SENT, Status.QUEUED]
