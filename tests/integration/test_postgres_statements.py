"""The PostgreSQL-only statements of the hot path, on PostgreSQL: the outbox
insert (``INSERT ... ON CONFLICT DO NOTHING RETURNING``, compiled once) and
the outcome record (``WITH updated AS (UPDATE ...) INSERT INTO log``)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_order_mail.delivery.record import record_outcome
from django_order_mail.delivery.sender import claim
from django_order_mail.events import MailEvent
from django_order_mail.outbox import insert
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres(services_ok):
    assert connection.vendor == "postgresql"


def write(order, *pending):
    with transaction.atomic():
        return enqueue(order, list(pending))


def test_insert_returns_new_rows_and_skips_existing_keys():
    order = OrderFactory()
    insert._single_row_sql.clear()
    [first] = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    assert insert._single_row_sql["default"]  # the fast path is on for PostgreSQL
    with CaptureQueriesContext(connection) as captured:
        assert write(order, PendingMail(MailEvent.ORDER_CONFIRMATION)) == []  # the same key again
    [statement] = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert "ON CONFLICT DO NOTHING RETURNING" in statement
    both = write(
        order, PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.PAYMENT_FAILED)
    )  # two rows
    assert [r.event for r in both] == [MailEvent.PAYMENT_FAILED]
    stored = OutboxEmail.objects.get(pk=first.pk)
    assert (stored.idempotency_key, stored.status, stored.extra) == (first.idempotency_key, Status.QUEUED, {})
    assert stored.created_at == first.created_at
    assert OutboxEmail.objects.count() == 2


def test_a_not_null_violation_raises_on_postgresql(monkeypatch):
    from django.db import IntegrityError

    from django_order_mail.outbox import enqueue as enqueue_module

    monkeypatch.setattr(enqueue_module, "idempotency_key", lambda *args, **kwargs: None)
    with pytest.raises(IntegrityError):
        write(OrderFactory(), PendingMail(MailEvent.ORDER_CONFIRMATION))


def test_record_is_one_statement_that_updates_and_logs():
    order = OrderFactory()
    [row] = write(order, PendingMail(MailEvent.ORDER_CONFIRMATION))
    claimed = claim(row.pk)
    values = {"status": Status.SENT, "updated_at": timezone.now(), "esp_message_id": "m-1"}
    with CaptureQueriesContext(connection) as captured:
        assert record_outcome(claimed, (Status.SENDING,), status=Status.SENT, message="ok", values=values)
    assert len(captured.captured_queries) == 1
    stored = OutboxEmail.objects.get(pk=row.pk)
    assert (stored.status, stored.esp_message_id) == (Status.SENT, "m-1")
    [log] = EmailLog.objects.filter(email=row)
    assert (log.status, log.message, log.created_at) == (Status.SENT, "ok", values["updated_at"])

    # A lost claim (another token, or the row moved on) changes and logs nothing.
    claimed.claim_token = None
    values = {"status": Status.FAILED, "updated_at": timezone.now()}
    assert not record_outcome(claimed, (Status.SENDING,), status=Status.FAILED, message="x", values=values)
    assert OutboxEmail.objects.get(pk=row.pk).status == Status.SENT
    assert EmailLog.objects.filter(email=row).count() == 1


def test_hooks_longer_than_the_columns_never_fail_the_orders_transition():
    """PostgreSQL refuses a value longer than its column; the outbox row is
    written in the order's transaction, so an overlong hook value would
    undo the transition. The values are cut to fit instead."""
    order = OrderFactory(state="pending_payment")
    order.get_mail_recipient = lambda: "x" * 300 + "@example.com"
    order.get_mail_language = lambda: "en-" + "x" * 30
    order.get_mail_channel = lambda: "c" * 60
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    order.refresh_from_db()
    assert order.state == "awaiting_shipment"
    row = OutboxEmail.objects.get(event=MailEvent.ORDER_CONFIRMATION)
    assert (len(row.recipient), len(row.language), len(row.channel)) == (254, 15, 40)


def test_claim_due_skips_rows_another_worker_has_locked():
    """Workers looking for due rows at once take different rows and never
    wait on each other's locks (``FOR UPDATE SKIP LOCKED``), oldest first."""
    import threading
    from datetime import timedelta

    from django.db import connections

    from django_order_mail.delivery.claim import claim_due

    # Written scheduled (never published: a running worker must not take
    # them), then queued by hand, oldest first.
    later = timezone.now() + timedelta(hours=1)
    pending = PendingMail(MailEvent.ORDER_CONFIRMATION, send_after=later)
    rows = [write(OrderFactory(), pending)[0] for _ in range(5)]
    for age, row in enumerate(reversed(rows)):
        OutboxEmail.objects.filter(pk=row.pk).update(
            status=Status.QUEUED, send_after=None, enqueued_at=timezone.now() - timedelta(seconds=age)
        )
    locked, release = threading.Event(), threading.Event()

    def hold_two():  # another worker's claim, in flight
        try:
            with transaction.atomic():
                list(OutboxEmail.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).select_for_update())
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_two)
    holder.start()
    try:
        assert locked.wait(30)
        with CaptureQueriesContext(connection) as captured:
            claimed = claim_due(10)
        assert [r.pk for r in claimed] == [r.pk for r in rows[2:]]
        assert all(r.status == Status.SENDING and r.attempts == 1 for r in claimed)
        [look] = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
        assert look.startswith("SELECT") and look.endswith("LIMIT 10 FOR UPDATE SKIP LOCKED")
    finally:
        release.set()
        holder.join(30)
    # Never more than asked for, however the planner runs the statements.
    assert [r.pk for r in claim_due(1)] == [rows[0].pk]
    assert [r.pk for r in claim_due(10)] == [rows[1].pk]
    assert claim_due(10) == []


def test_a_sending_threads_dead_connection_is_dropped_after_an_idle_spell(monkeypatch):
    """A sending thread keeps its database connection between emails. After
    an idle spell it checks it first, so an email never fails an attempt on a
    connection the server ended meanwhile (here ``pg_terminate_backend()``)."""
    from types import SimpleNamespace

    import psycopg

    from django_order_mail.delivery import connection as sending

    now = [1000.0]
    monkeypatch.setattr(sending, "time", SimpleNamespace(monotonic=lambda: now[0]))
    sending._local.__dict__.pop("database_used_at", None)
    sending.check_idle_database_connection()  # first use: nothing to check
    assert OutboxEmail.objects.count() == 0
    live = connection.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    now[0] += 0.5
    sending.check_idle_database_connection()  # emails back to back: no round trip, kept
    assert connection.connection is live

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    now[0] += sending.CHECK_IDLE_AFTER
    sending.check_idle_database_connection()
    assert connection.connection is None  # dropped: the next statement reconnects
    assert OutboxEmail.objects.count() == 0


def test_a_broken_connection_is_dropped_but_never_inside_a_callers_transaction():
    """After an unexpected error the sender drops the outbox database's
    connection if it no longer works, so the next email reconnects. Inside a
    transaction someone else opened, closing it would end that transaction
    under its owner: there it is left alone."""
    import psycopg

    from django_order_mail.delivery.connection import _drop_broken_connection

    with transaction.atomic():
        order = OrderFactory()
        live = connection.connection
        connection.errors_occurred = True  # as after any failed statement
        _drop_broken_connection()
        assert connection.connection is live
    assert type(order).objects.filter(pk=order.pk).exists()  # the caller's transaction committed

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [pid] = cursor.fetchone()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection.errors_occurred = True
    _drop_broken_connection()
    assert connection.connection is None  # dropped: the next statement reconnects
    assert type(order).objects.filter(pk=order.pk).exists()
