"""The last phase of a send: record what happened to a claimed row.

Every stop, every ESP answer and every error ends here, in one statement per
email (:func:`~django_order_mail.delivery.record.record_outcome`), written
right after that email's own ESP call: the window in which a crash can
double an email stays one call wide (``docs/reliability.md``).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING

from django.utils import timezone

from ..app_settings import app_settings
from ..outbox.enqueue import publish
from ..outbox.models import OutboxEmail, Status
from ..signals import email_failed, email_sent, send_robustly
from .connection import _drop_broken_connection, reset_connection
from .errors import Verdict, classify
from .record import record_outcome

if TYPE_CHECKING:
    from .preparation import Prepared

logger = logging.getLogger("django_order_mail.delivery")


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


def record_sent(prepared: Prepared) -> str:
    """The last phase for a message the ESP accepted (``message.anymail_status``
    as Anymail set it): record it, then send :data:`email_sent`."""
    row, order, rendered, message = prepared.row, prepared.order, prepared.rendered, prepared.message
    status = getattr(message, "anymail_status", None)
    if status is not None and getattr(status, "status", None) is None:
        # Anymail's own pre_send signal (a shop's receiver raised
        # AnymailCancelSend): the message never reached the ESP.
        reason = "not sent: an Anymail pre_send receiver cancelled it"
        _finish(row, Status.CANCELLED, reason, last_error=reason, subject=rendered.subject[:998])
        return Status.CANCELLED
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


def handle_send_error(row: OutboxEmail, rendered, exc: BaseException) -> str:
    return apply_verdict(row, rendered, classify(exc))


def apply_verdict(row: OutboxEmail, rendered, verdict: Verdict) -> str:
    """Record a message the ESP did not take: failed for good, or retried later."""
    if not verdict.transient:
        _finish(row, Status.FAILED, verdict.reason, last_error=verdict.reason, subject=rendered.subject[:998])
        return Status.FAILED
    reset_connection()  # a broken keep-alive connection must not poison the next send
    return retry_later(row, verdict.reason, verdict.retry_after)


def retry_later(row: OutboxEmail, reason: str, retry_after: float | None = None) -> str:
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


def unexpected_error(row: OutboxEmail, exc: Exception) -> str:
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
        return retry_later(row, reason)
    except Exception:  # the database itself is gone: the sweep releases the row
        logger.exception("Email %s: could not record the error; the sweep will release it", row.pk)
        return "error"
