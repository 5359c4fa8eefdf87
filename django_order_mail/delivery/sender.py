"""Deliver one outbox row: claim, check, render, send, record.

Claiming is a compare-and-set ``UPDATE ... WHERE status = 'queued'``: the
database row lock makes a second worker that got the same id (a redelivered
broker message, the sweep re-publishing) update nothing and walk away, on
PostgreSQL across any number of machines and on SQLite alike.

The ESP's answer is recorded in the statement right after the API call
returns, which keeps the one window where a duplicate is possible (ESP
accepted, worker died before recording) as small as it can be.
"""

from __future__ import annotations

import contextvars
import logging
import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.core.mail import get_connection
from django.db import DatabaseError, connections, router
from django.db.models import F, Q
from django.utils import timezone

from ..app_settings import app_settings
from ..events import FOLLOW_UP_EVENTS
from ..exceptions import SendVetoed
from ..lifecycle.shipments import Shipment
from ..lifecycle.states import order_state
from ..memo import batch_scope
from ..outbox.enqueue import publish
from ..outbox.models import OutboxEmail, Status
from ..rendering.message import build_message
from ..rendering.render import render_outbox_email
from ..signals import SendDraft, email_failed, email_sent, emails_claimed, pre_render, pre_send, send_robustly
from .errors import classify, recipient_problem
from .frequency import frequency_cap
from .record import record_outcome

logger = logging.getLogger("django_order_mail.delivery")

_local = threading.local()


def _connection():
    """One open email-backend connection per sending thread, reused across
    sends: an HTTP API backend (Anymail) keeps one ``requests`` session and
    its kept-alive TCP connections, an SMTP backend one SMTP session.

    It must be opened here: a backend that is not open opens and closes a
    session around every message (``docs/performance.md``: 600 emails made
    over 600 TCP connections before this).
    """
    conn = getattr(_local, "connection", None)
    if conn is None:
        conn = get_connection()
        conn.open()
        session = getattr(conn, "session", None)  # Anymail's requests-based backends
        if session is not None and not app_settings.ESP_TRUST_ENV:
            # requests reads the proxy environment variables on every call
            # unless told not to (docs/settings.rst: ESP_TRUST_ENV).
            session.trust_env = False
        _local.connection = conn
    return conn


def reset_connection() -> None:
    conn = getattr(_local, "connection", None)
    _local.connection = None
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


def claim(email_id: int) -> OutboxEmail | None:
    """Move a due queued row to ``sending``; None if another worker has it,
    it is not due yet, or it is already final."""
    rows = claim_many([email_id])
    return rows[0] if rows else None


def claim_many(ids: list[int]) -> list[OutboxEmail]:
    """Move the due queued rows among ``ids`` to ``sending`` in one
    statement and return them (in id order); rows another worker holds, rows
    not due yet and final rows are left out."""
    if not ids:
        return []
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        OutboxEmail.objects.filter(pk__in=ids, status=Status.QUEUED)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .update(
            status=Status.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return []
    return list(
        OutboxEmail.objects.select_related("shipment", "content_type")
        .filter(pk__in=ids, claim_token=token)
        .order_by("pk")
    )


def _finish(row: OutboxEmail, status: str, message: str = "", **fields) -> bool:
    """Record the outcome of our claim; False if the claim was lost meanwhile.

    A row the sweep released (``queued`` again, same token) still accepts the
    outcome: recording a send that did happen prevents a duplicate.
    """
    values = {"status": status, "updated_at": timezone.now(), **fields}
    updated = record_outcome(
        row, (Status.SENDING, Status.QUEUED), status=status, message=message, values=values
    )
    if not updated:
        logger.warning("Email %s: claim lost before recording %s", row.pk, status)
    elif status == Status.FAILED:
        send_robustly(
            email_failed, _sender_of(row), email=row, order=row.order, reason=message, permanent=True
        )
    return bool(updated)


def _sender_of(row: OutboxEmail):
    """The ``sender`` of the app's signals: the order's model class."""
    return row.content_type.model_class() if row.content_type_id else None


def _still_relevant(row: OutboxEmail, order) -> str | None:
    """Re-check right before sending (``docs/lifecycle.rst``): why not to send, or None."""
    if row.event not in FOLLOW_UP_EVENTS or row.resend_of_id is not None:
        return None  # transactional mail always goes; so does a staff resend
    cancel_states = getattr(order, "mail_cancel_scheduled_states", ())
    state = order_state(order)
    if state in cancel_states:
        return f"order is {state}"
    return None


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter: base·2^(n-1), capped, half of it random.

    Capped below Redis' default visibility timeout (1 h) so a delayed
    broker message is never redelivered early as a duplicate.
    """
    base = app_settings.RETRY_BACKOFF_BASE
    cap = app_settings.RETRY_BACKOFF_MAX
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = delay / 2 + random.uniform(0, delay / 2)
    if retry_after:
        delay = max(delay, min(cap, retry_after))
    return delay


def deliver(email_id: int) -> str:
    """Send outbox row ``email_id`` if it is due and nobody else is; return
    what happened (for logs and tests)."""
    row = claim(email_id)
    if row is None:
        return "not-claimed"
    return deliver_claimed(row)


def deliver_batch(ids: list[int]) -> dict[int, str]:
    """Send the outbox rows ``ids`` as one batch; return what happened to each.

    One statement claims them all; their orders (with the order model's
    ``mail_prefetch_related``), shipments and suppression entries are read
    in a few queries, and template choices and A/B tests once
    (:mod:`django_order_mail.memo`). Each email is still rendered, checked,
    sent and recorded on its own, right after its ESP call, and one email's
    failure never stops the others. A row this worker could not finish (it
    was killed, the database went away) stays ``sending`` until the sweep
    releases it after ``SENDING_TIMEOUT``.
    """
    ids = list(dict.fromkeys(ids))
    rows = claim_many(ids)
    outcomes = dict.fromkeys(ids, "not-claimed")
    with batch_scope():
        try:
            _prefetch(rows)
        except Exception:
            logger.exception("Loading the orders of a batch failed; each email loads its own")
            _drop_broken_connection()
        threads = min(app_settings.DELIVERY_CONCURRENCY, len(rows))
        if threads <= 1:
            for row in rows:
                outcomes[row.pk] = _deliver_one(row)
        else:
            # Each email in its own sending thread (its own ESP and database
            # connections), with this batch's memo: copy_context() carries it.
            pool = _pool(app_settings.DELIVERY_CONCURRENCY)
            futures = {row.pk: pool.submit(contextvars.copy_context().run, _deliver_one, row) for row in rows}
            for pk, future in futures.items():
                outcomes[pk] = future.result()
    return outcomes


def _deliver_one(row: OutboxEmail) -> str:
    try:
        return deliver_claimed(row)
    except Exception as exc:  # noqa: BLE001 - one email's problem, not the batch's
        return _unexpected_error(row, exc)


_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    """This process's sending threads (``DELIVERY_CONCURRENCY``), made on
    first use, so a Celery prefork child makes its own after the fork. The
    threads live as long as the process and keep their connections (an ESP
    session, a database connection) from batch to batch."""
    key = (os.getpid(), size)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="order-mail-send")
        return pool


def _drop_broken_connection() -> None:
    """Close the outbox database's connection if an error left it unusable
    (a restarted or failed-over server, a terminated backend), so the next
    statement reconnects; what Django does between requests."""
    connections[router.db_for_write(OutboxEmail)].close_if_unusable_or_obsolete()


def _unexpected_error(row: OutboxEmail, exc: Exception) -> str:
    """An error nobody classified (a shop hook raised, the database went
    away). Before the send it is retried with backoff like an ESP outage,
    and fails the row after ``MAX_ATTEMPTS``; once the ESP may have the
    message the row is left ``sending`` for the sweep, which is the only
    safe judge (``SENDING_TIMEOUT``)."""
    logger.exception("Email %s: unexpected error", row.pk)
    _drop_broken_connection()  # a dead database connection must not fail the rest of the batch
    if getattr(row, "send_started", False):
        return "error"
    reason = f"unexpected error: {type(exc).__name__}: {exc}"[:2000]
    try:
        return _retry_later(row, reason)
    except Exception:  # the database itself is gone: the sweep releases the row
        logger.exception("Email %s: could not record the error; the sweep will release it", row.pk)
        return "error"


def _prefetch(rows: list[OutboxEmail]) -> None:
    """Load the orders of ``rows`` per model in one query each (plus the
    model's ``mail_prefetch_related``), their shipments and the recipients'
    suppression entries, for the current batch."""
    by_type: dict[int, list[OutboxEmail]] = {}
    for row in rows:
        by_type.setdefault(row.content_type_id, []).append(row)
    for group in by_type.values():
        content_type = group[0].content_type
        model = content_type.model_class()
        if model is None:
            continue
        qs = model._default_manager.filter(pk__in={row.object_id for row in group})
        related = getattr(model, "mail_prefetch_related", ())
        if related:
            qs = qs.prefetch_related(*related)
        found = {str(obj.pk): obj for obj in qs}
        for row in group:
            obj = found.get(row.object_id)
            if obj is not None:
                row.order = obj
        Shipment.prime_for_orders(content_type, found)
    # Features fetch what every email of the batch needs (say, the
    # recipients' suppression entries) in one query.
    emails_claimed.send(sender=OutboxEmail, emails=rows)


def deliver_claimed(row: OutboxEmail) -> str:
    """Check, render, send and record a row this worker claimed.

    The order of the checks: the order still exists and the email still
    applies; it goes to exactly one valid address; the :data:`pre_send`
    receivers (suppression, abandoned-cart checks: ``docs/signals.rst``) let
    it go; the commercial frequency cap allows it; the :data:`pre_render`
    receivers adjust it (subject tests, unsubscribe headers, coupons); it
    renders. Each
    stop is recorded with its reason, never dropped.
    """
    order = row.order
    if order is None:
        _finish(row, Status.FAILED, "the order no longer exists", last_error="the order no longer exists")
        return Status.FAILED
    reason = _still_relevant(row, order)
    if reason:
        _finish(row, Status.CANCELLED, reason, last_error=reason)
        return Status.CANCELLED
    try:
        recipient = row.current_recipient(order)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken get_mail_recipient() hook
        return _render_failed(row, exc)
    # One email, one address: a list ("victim@..., attacker@...") or a header
    # injection never reaches the ESP, whichever path (single, batch, resend,
    # retry) brought the row here. Failed for good; the reason is in the log.
    problem = recipient_problem([recipient])
    if problem:
        reason = f"not sent: {problem}"
        _finish(row, Status.FAILED, reason, last_error=reason)
        return Status.FAILED

    draft = SendDraft(recipient=recipient)
    try:
        pre_send.send(sender=type(order), email=row, order=order, draft=draft)
        capped = frequency_cap(row, draft.recipient, timezone.now())
        if capped is not None:
            raise capped
        pre_render.send(sender=type(order), email=row, order=order, draft=draft)
    except SendVetoed as veto:
        _finish(row, veto.status, veto.reason, last_error=veto.reason[:2000], **veto.fields)
        return veto.status

    try:
        rendered = render_outbox_email(
            row, order, subject_template=draft.subject_template, extra_context=draft.context
        )
        message = build_message(row, rendered, recipient=draft.recipient, headers=draft.headers)
    except DatabaseError:
        # The database, not the template: a dropped connection while a hook
        # read the order is retried (_unexpected_error), never a render error.
        raise
    except Exception as exc:  # noqa: BLE001 - recorded as a render error
        return _render_failed(row, exc)

    row.send_started = True  # from here on the ESP may have the message
    try:
        message.connection = _connection()
        message.send()
    except Exception as exc:  # noqa: BLE001 - sorted by classify()
        return _handle_send_error(row, rendered, exc)

    status = getattr(message, "anymail_status", None)
    message_id = (getattr(status, "message_id", None) or "") if status else ""
    statuses = set(getattr(status, "status", None) or ())
    refused = statuses & {"rejected", "invalid"}
    if refused and refused == statuses:
        # Only reached with ANYMAIL IGNORE_RECIPIENT_STATUS: the ESP refused
        # the recipient without raising. Not sent; retrying will not help.
        reason = f"recipient {', '.join(sorted(refused))} at the ESP"
        _finish(row, Status.FAILED, reason, last_error=reason, subject=rendered.subject[:998])
        return Status.FAILED
    if _finish(
        row,
        Status.SENT,
        f"accepted by the ESP{f' as {message_id}' if message_id else ''}",
        sent_at=timezone.now(),
        esp_message_id=str(message_id)[:255],
        recipient=message.to[0],
        subject=rendered.subject[:998],
        body_text=rendered.text,
        body_html=rendered.html,
        last_error="",
    ):
        send_robustly(email_sent, type(order), email=row, order=order, message=message)
    return Status.SENT


def _render_failed(row: OutboxEmail, exc: Exception) -> str:
    reason = f"render error: {type(exc).__name__}: {exc}"
    logger.exception("Email %s could not be rendered", row.pk)
    _finish(row, Status.FAILED, reason, last_error=reason[:2000])
    return Status.FAILED


def _handle_send_error(row: OutboxEmail, rendered, exc: BaseException) -> str:
    verdict = classify(exc)
    if not verdict.transient:
        _finish(row, Status.FAILED, verdict.reason, last_error=verdict.reason, subject=rendered.subject[:998])
        return Status.FAILED
    reset_connection()  # a broken keep-alive connection must not poison the next send
    return _retry_later(row, verdict.reason, verdict.retry_after)


def _retry_later(row: OutboxEmail, reason: str, retry_after: float | None = None) -> str:
    """Back to ``queued`` after a backoff delay (published with that
    countdown), or ``failed`` once ``MAX_ATTEMPTS`` attempts were made."""
    if row.attempts >= app_settings.MAX_ATTEMPTS:
        reason = f"gave up after {row.attempts} attempts: {reason}"
        _finish(row, Status.FAILED, reason, last_error=reason)
        return Status.FAILED
    delay = retry_delay(row.attempts, retry_after)
    now = timezone.now()
    if _finish(
        row,
        Status.QUEUED,
        f"attempt {row.attempts} failed, retry in {delay:.0f}s: {reason}",
        last_error=reason,
        send_after=now + timedelta(seconds=delay),
        enqueued_at=now,
    ):
        publish([row.pk], countdown=delay)
        send_robustly(
            email_failed, _sender_of(row), email=row, order=row.order, reason=reason, permanent=False
        )
    return "retry"
