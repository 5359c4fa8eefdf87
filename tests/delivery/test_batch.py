"""Sending a batch of outbox rows: one claim, shared lookups, isolated failures."""

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_order_mail.delivery import outcome, preparation, tasks
from django_order_mail.delivery.sender import deliver, deliver_batch
from django_order_mail.events import MailEvent
from django_order_mail.memo import batch_scope, memoized
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.signals import pre_send
from django_order_mail.tracking.models import Suppression
from django_order_mail.tracking.suppression import suppress
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def confirmed_rows(n, **order_fields):
    rows = []
    for _ in range(n):
        order = OrderFactory(**order_fields)
        order.confirm_payment()
        order.save()
        rows.append(OutboxEmail.for_order(order).get(event=MailEvent.ORDER_CONFIRMATION))
    return rows


def test_a_batch_sends_each_row_once_and_records_each(broker, esp):
    rows = confirmed_rows(5)
    outcomes = deliver_batch([r.pk for r in rows])
    assert outcomes == {r.pk: Status.SENT for r in rows}
    assert sorted(m.to[0] for m in esp.sent) == sorted(r.recipient for r in rows)
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {Status.SENT}
    assert EmailLog.objects.filter(status=Status.SENT).count() == 5
    # Each email got its own order's content, not a neighbour's.
    for row in rows:
        [message] = [m for m in esp.sent if m.to[0] == row.recipient]
        assert row.reference in message.subject


def test_rows_already_taken_are_not_sent_again(broker, esp):
    rows = confirmed_rows(3)
    assert deliver(rows[1].pk) == Status.SENT
    outcomes = deliver_batch([r.pk for r in rows] + [rows[0].pk])  # a repeated id, too
    assert outcomes == {rows[0].pk: Status.SENT, rows[1].pk: "not-claimed", rows[2].pk: Status.SENT}
    assert len(esp.sent) == 3
    assert deliver_batch([r.pk for r in rows]) == dict.fromkeys([r.pk for r in rows], "not-claimed")
    assert len(esp.sent) == 3


def test_queries_per_batch_do_not_grow_with_each_email(broker, esp):
    """The lookups a batch shares are made once: 10 emails cost far fewer
    than 10 times the statements of one."""
    one = confirmed_rows(1)
    with CaptureQueriesContext(connection) as single:
        deliver_batch([one[0].pk])
    ten = confirmed_rows(10)
    with CaptureQueriesContext(connection) as batch:
        deliver_batch([r.pk for r in ten])

    def lookups(captured):
        """Statements other than recording one email's outcome."""
        recording = ("SAVEPOINT", "RELEASE SAVEPOINT", 'INSERT INTO "django_order_mail_emaillog"')
        return [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(recording) and "SET \"status\" = 'sent'" not in q["sql"]
        ]

    assert len(lookups(batch)) <= len(lookups(single)) <= 10
    sent_updates = [q for q in batch.captured_queries if "SET \"status\" = 'sent'" in q["sql"]]
    assert len(sent_updates) == 10  # each outcome recorded on its own, right after its send
    claims = [q for q in batch.captured_queries if "SET \"status\" = 'sending'" in q["sql"]]
    assert len(claims) == 1


def test_one_failing_email_does_not_stop_the_others(broker, esp, monkeypatch):
    rows = confirmed_rows(3)
    original = preparation.render_outbox_email

    def render(row, order, **kwargs):
        if row.pk == rows[1].pk:
            raise ValueError("bad data in this order")
        return original(row, order, **kwargs)

    monkeypatch.setattr(preparation, "render_outbox_email", render)
    outcomes = deliver_batch([r.pk for r in rows])
    assert outcomes == {rows[0].pk: Status.SENT, rows[1].pk: Status.FAILED, rows[2].pk: Status.SENT}
    failed = OutboxEmail.objects.get(pk=rows[1].pk)
    assert "bad data in this order" in failed.last_error


def test_an_unexpected_error_before_the_send_is_retried_with_backoff(broker, esp, request, mail_settings):
    """A shop's pre_send receiver that raises (a stock service that timed
    out) is not the customer's fault and may pass: retried like an ESP
    outage, then failed."""
    mail_settings(MAX_ATTEMPTS=2)
    rows = confirmed_rows(2)

    def explode(sender, email, order, draft, **kwargs):
        if email.pk == rows[0].pk:
            raise RuntimeError("stock service timed out")

    pre_send.connect(explode, dispatch_uid="test.explode")
    request.addfinalizer(lambda: pre_send.disconnect(dispatch_uid="test.explode"))
    assert deliver_batch([r.pk for r in rows]) == {rows[0].pk: "retry", rows[1].pk: Status.SENT}
    retried = OutboxEmail.objects.get(pk=rows[0].pk)
    assert retried.status == Status.QUEUED
    assert retried.send_after > timezone.now()
    assert retried.last_error == "unexpected error: RuntimeError: stock service timed out"
    [(ids, countdown)] = broker  # re-published with its countdown
    assert ids == [rows[0].pk] and countdown > 0
    assert EmailLog.objects.filter(email=retried, message__contains="retry in").exists()

    OutboxEmail.objects.filter(pk=rows[0].pk).update(send_after=None)
    assert deliver_batch([rows[0].pk]) == {rows[0].pk: Status.FAILED}  # attempt 2 of 2
    failed = OutboxEmail.objects.get(pk=rows[0].pk)
    assert failed.status == Status.FAILED
    assert (
        failed.last_error
        == "gave up after 2 attempts: unexpected error: RuntimeError: stock service timed out"
    )
    assert len(esp.sent) == 1


def test_an_error_after_the_esp_accepted_leaves_the_row_for_the_sweep(broker, esp, monkeypatch):
    """The ESP has the message but recording it failed: only the sweep, after
    SENDING_TIMEOUT, may decide to send again (the duplicate window)."""
    rows = confirmed_rows(2)
    original = outcome.record_outcome

    def record(row, *args, status, **kwargs):
        if row.pk == rows[0].pk and status == Status.SENT:
            raise OperationalError("server closed the connection unexpectedly")
        return original(row, *args, status=status, **kwargs)

    monkeypatch.setattr(outcome, "record_outcome", record)
    assert deliver_batch([r.pk for r in rows]) == {rows[0].pk: "error", rows[1].pk: Status.SENT}
    assert OutboxEmail.objects.get(pk=rows[0].pk).status == Status.SENDING
    assert len(esp.sent) == 2
    assert broker == []


def test_suppression_is_honoured_per_recipient_in_a_batch(broker, esp):
    rows = confirmed_rows(3)
    suppress(rows[1].recipient.upper(), Suppression.Reason.HARD_BOUNCE)
    outcomes = deliver_batch([r.pk for r in rows])
    assert outcomes[rows[1].pk] == Status.SUPPRESSED
    assert outcomes[rows[0].pk] == outcomes[rows[2].pk] == Status.SENT
    assert len(esp.sent) == 2


def test_a_deleted_order_fails_only_its_own_email(broker, esp):
    rows = confirmed_rows(2)
    rows[0].order.delete()
    outcomes = deliver_batch([r.pk for r in rows])
    assert outcomes == {rows[0].pk: Status.FAILED, rows[1].pk: Status.SENT}
    assert OutboxEmail.objects.get(pk=rows[0].pk).last_error == "the order no longer exists"


def test_the_task_delivers_its_batch(broker, esp):
    rows = confirmed_rows(2)
    assert tasks.send_emails([r.pk for r in rows]) == {r.pk: Status.SENT for r in rows}
    assert tasks.send_email(rows[0].pk) == "not-claimed"  # the single-row task still works


def test_memo_is_per_batch_only():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert memoized("k", compute) == 1
    assert memoized("k", compute) == 2  # no batch: computed every time
    with batch_scope():
        assert memoized("k", compute) == 3
        assert memoized("k", compute) == 3
    with batch_scope():
        assert memoized("k", compute) == 4  # a new batch starts fresh


@pytest.mark.django_db(transaction=True)
def test_recording_survives_a_dropped_database_connection(broker, esp, monkeypatch):
    """The first statement after the ESP call is the one that notices a
    connection that died while the worker waited; it is retried on a new
    connection instead of leaving an accepted email to be sent again."""
    from django_order_mail.delivery import record

    [row] = confirmed_rows(1)
    original, calls = record._record, []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return original(*args, **kwargs)

    monkeypatch.setattr(record, "_record", flaky)
    monkeypatch.setattr(record, "RECORD_RETRY_DELAYS", (0.01,))
    assert deliver_batch([row.pk]) == {row.pk: Status.SENT}
    assert len(calls) == 2
    assert OutboxEmail.objects.get(pk=row.pk).status == Status.SENT
    assert len(esp.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_a_database_that_stays_down_leaves_the_row_for_the_sweep(broker, esp, monkeypatch):
    from django_order_mail.delivery import record

    [row] = confirmed_rows(1)

    def down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(record, "_record", down)
    monkeypatch.setattr(record, "RECORD_RETRY_DELAYS", (0.01, 0.01))
    assert deliver_batch([row.pk]) == {row.pk: "error"}
    assert OutboxEmail.objects.get(pk=row.pk).status == Status.SENDING


def test_a_database_error_while_rendering_is_retried_not_a_render_error(broker, esp, monkeypatch):
    """A hook whose query hits a dropped connection says nothing about the
    template: the email is retried with backoff, not failed for good."""
    [row] = confirmed_rows(1)

    def lines_query_fails(self):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(type(row.order), "get_mail_line_items", lines_query_fails)
    assert deliver_batch([row.pk]) == {row.pk: "retry"}
    retried = OutboxEmail.objects.get(pk=row.pk)
    assert retried.status == Status.QUEUED
    assert retried.last_error == (
        "unexpected error: OperationalError: server closed the connection unexpectedly"
    )
