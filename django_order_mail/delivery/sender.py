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

import logging
import random
import threading
import uuid
from datetime import timedelta

from django.core.mail import get_connection
from django.db.models import F, Q
from django.utils import timezone

from ..carts.relevance import check_before_send
from ..conf import get_setting
from ..events import FOLLOW_UP_EVENTS
from ..lifecycle.states import order_state
from ..outbox.enqueue import publish
from ..outbox.models import EmailLog, OutboxEmail, Status
from ..rendering.message import build_message
from ..rendering.render import render_outbox_email
from ..tracking.ab import choose_variant
from ..tracking.suppression import suppression_for
from .errors import classify

logger = logging.getLogger("django_order_mail.delivery")

_local = threading.local()


def _connection():
    """One email-backend connection per worker thread, reused across sends
    (Anymail keeps its HTTP session and its keep-alive connections)."""
    conn = getattr(_local, "connection", None)
    if conn is None:
        conn = _local.connection = get_connection()
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
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        OutboxEmail.objects.filter(pk=email_id, status=Status.QUEUED)
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
        return None
    return OutboxEmail.objects.select_related("shipment", "content_type").get(pk=email_id)


def _finish(row: OutboxEmail, status: str, message: str = "", **fields) -> bool:
    """Record the outcome of our claim; False if the claim was lost meanwhile.

    A row the sweep released (``queued`` again, same token) still accepts the
    outcome: recording a send that did happen prevents a duplicate.
    """
    now = timezone.now()
    updated = OutboxEmail.objects.filter(
        pk=row.pk, claim_token=row.claim_token, status__in=(Status.SENDING, Status.QUEUED)
    ).update(status=status, updated_at=now, **fields)
    if updated:
        EmailLog.objects.create(email_id=row.pk, status=status, message=message[:2000])
    else:
        logger.warning("Email %s: claim lost before recording %s", row.pk, status)
    return bool(updated)


def _still_relevant(row: OutboxEmail, order) -> str | None:
    """Re-check right before sending (PRODUCT.md §6): why not to send, or None."""
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
    base = get_setting("RETRY_BACKOFF_BASE")
    cap = get_setting("RETRY_BACKOFF_MAX")
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

    order = row.order
    if order is None:
        _finish(row, Status.FAILED, "the order no longer exists", last_error="the order no longer exists")
        return Status.FAILED
    reason = _still_relevant(row, order)
    if reason:
        _finish(row, Status.CANCELLED, reason, last_error=reason)
        return Status.CANCELLED
    # Abandoned-cart stop conditions and the commercial frequency cap.
    verdict = check_before_send(row, order)
    if verdict is not None:
        _finish(row, verdict.status, verdict.reason, last_error=verdict.reason, **verdict.fields)
        return verdict.status

    try:
        variant = choose_variant(row)  # subject A/B test; stored on the row
        rendered = render_outbox_email(row, order, subject_template=variant.subject if variant else "")
        message = build_message(row, rendered)
    except Exception as exc:
        reason = f"render error: {type(exc).__name__}: {exc}"
        logger.exception("Email %s could not be rendered", row.pk)
        _finish(row, Status.FAILED, reason, last_error=reason[:2000])
        return Status.FAILED

    # Suppression is checked against the address actually used, right
    # before sending; a suppressed email is recorded with why, not dropped.
    suppression = suppression_for(message.to[0], row.event)
    if suppression is not None:
        reason = suppression.describe()
        _finish(row, Status.SUPPRESSED, reason, last_error=reason, recipient=message.to[0][:254])
        return Status.SUPPRESSED

    try:
        message.connection = _connection()
        message.send()
    except Exception as exc:  # noqa: BLE001 - sorted by classify()
        return _handle_send_error(row, rendered, exc)

    status = getattr(message, "anymail_status", None)
    message_id = (getattr(status, "message_id", None) or "") if status else ""
    refused = set(getattr(status, "status", None) or ()) & {"rejected", "invalid"}
    if refused and refused == set(status.status):
        # Only reached with ANYMAIL IGNORE_RECIPIENT_STATUS: the ESP refused
        # the recipient without raising. Not sent; retrying will not help.
        reason = f"recipient {', '.join(sorted(refused))} at the ESP"
        _finish(row, Status.FAILED, reason, last_error=reason, subject=rendered.subject[:998])
        return Status.FAILED
    _finish(
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
    )
    return Status.SENT


def _handle_send_error(row: OutboxEmail, rendered, exc: BaseException) -> str:
    verdict = classify(exc)
    if not verdict.transient:
        _finish(row, Status.FAILED, verdict.reason, last_error=verdict.reason, subject=rendered.subject[:998])
        return Status.FAILED
    if row.attempts >= get_setting("MAX_ATTEMPTS"):
        reason = f"gave up after {row.attempts} attempts: {verdict.reason}"
        _finish(row, Status.FAILED, reason, last_error=reason)
        return Status.FAILED
    reset_connection()  # a broken keep-alive connection must not poison the next send
    delay = retry_delay(row.attempts, verdict.retry_after)
    now = timezone.now()
    if _finish(
        row,
        Status.QUEUED,
        f"attempt {row.attempts} failed, retry in {delay:.0f}s: {verdict.reason}",
        last_error=verdict.reason,
        send_after=now + timedelta(seconds=delay),
        enqueued_at=now,
    ):
        publish([row.pk], countdown=delay)
    return "retry"
