"""Deliver outbox rows: claim, then per row prepare, send, record.

Claiming is a compare-and-set ``UPDATE ... WHERE status = 'queued'``: the
database row lock makes a second worker that got the same id (a redelivered
broker message, the sweep re-publishing) update nothing and walk away, on
PostgreSQL across any number of machines and on SQLite alike.

A claimed row goes through three phases: :func:`prepare` (the checks, the
``pre_send``/``pre_render`` receivers, the frequency cap, rendering; every
stop recorded with its reason), the ESP call, and the recording of its answer.
One by one (the default), the answer is recorded in the statement right after
the row's own API call returns, which keeps the one window where a duplicate
is possible (ESP accepted, worker died before recording) one email wide.

With ``ESP_BATCH_SEND`` and an ESP that has a batch endpoint
(:mod:`django_order_mail.delivery.batch`), the rows of a batch are prepared
first, then sent in one API call per chunk of up to 500 and recorded one by
one after it: the duplicate window is then the whole call, and a worker that
dies between the ESP's answer and the recording leaves up to the whole chunk
for the sweep to send again.
"""

from __future__ import annotations

import contextvars
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError
from django.utils import timezone

from ..app_settings import app_settings
from ..events import FOLLOW_UP_EVENTS
from ..exceptions import SendVetoed
from ..lifecycle.states import order_state
from ..memo import batch_scope
from ..outbox.enqueue import publish
from ..outbox.models import OutboxEmail, Status
from ..rendering.message import build_message
from ..rendering.render import RenderedEmail, render_outbox_email
from ..signals import SendDraft, email_failed, email_sent, pre_render, pre_send, send_robustly
from ..streams import mailer_for
from .batch import batch_sender_for
from .claim import _prefetch, claim, claim_many

# Re-exported: sender._local, sender._connection and sender.reset_connection
# are where tests and benches reach the sending thread's connection.
from .connection import _connection, _drop_broken_connection, _local, _pool, reset_connection  # noqa: F401
from .errors import Verdict, classify, recipient_problem
from .frequency import frequency_cap
from .record import record_outcome

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
    (:mod:`django_order_mail.memo`). Each email is still checked, rendered,
    sent and recorded on its own, right after its ESP call (by
    ``DELIVERY_CONCURRENCY`` sending threads), and one email's failure never
    stops the others; with ``ESP_BATCH_SEND`` and an ESP that has a batch
    endpoint, the prepared emails go in one call per chunk instead
    (:func:`_deliver_in_batches`). A row this worker could not finish (it
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
        chunk_size = _batch_chunk_size() if rows else None
        threads = min(app_settings.DELIVERY_CONCURRENCY, len(rows))
        if chunk_size:
            outcomes.update(_deliver_in_batches(rows, chunk_size))
        elif threads <= 1:
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


def deliver_claimed(row: OutboxEmail) -> str:
    """Check, render, send and record a row this worker claimed: the three
    phases one after the other (:func:`prepare`, the ESP call,
    :func:`_record_sent` or the send error's verdict)."""
    prepared = prepare(row)
    if not isinstance(prepared, Prepared):
        return prepared
    row.send_started = True  # from here on the ESP may have the message
    message = prepared.message
    try:
        # The connection's own send_messages(): Django 6.1 deprecates
        # EmailMessage.connection; the mailer is the event's stream's.
        _connection(mailer_for(row.event)).send_messages([message])
    except Exception as exc:  # noqa: BLE001 - sorted by classify()
        return _handle_send_error(row, prepared.rendered, exc)
    return _record_sent(prepared)


@dataclass
class Prepared:
    """A claimed row that passed every check and rendered: its message is
    ready for the ESP."""

    row: OutboxEmail
    order: Any
    rendered: RenderedEmail
    message: EmailMultiAlternatives


def prepare(row: OutboxEmail) -> Prepared | str:
    """The first phase: the :class:`Prepared` message, or the status the
    row was recorded with when it stops here.

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
    return Prepared(row, order, rendered, message)


def _record_sent(prepared: Prepared) -> str:
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


def _batch_chunk_size() -> int | None:
    """Messages per ESP call on the batch path, or None to send one by one
    (``ESP_BATCH_SEND`` is off, or the configured backend has no batch
    sender)."""
    if not app_settings.ESP_BATCH_SEND:
        return None
    try:
        batch_sender = batch_sender_for(_connection())
    except Exception:  # the one-by-one path records this per email
        logger.exception("Could not open the email backend for a batch send")
        return None
    return max(1, batch_sender.max_messages) if batch_sender is not None else None


def _deliver_in_batches(rows: list[OutboxEmail], chunk_size: int) -> dict[int, str]:
    """The batch path, in the task's thread: :func:`prepare` every row (a
    veto, a skip or a render error is recorded for that row alone, as one
    by one), send the prepared messages in calls of at most ``chunk_size``,
    then record each message's answer on its own."""
    outcomes: dict[int, str] = {}
    ready: list[Prepared] = []
    for row in rows:
        try:
            prepared = prepare(row)
        except Exception as exc:  # noqa: BLE001 - one email's problem, not the batch's
            outcomes[row.pk] = _unexpected_error(row, exc)
            continue
        if isinstance(prepared, Prepared):
            ready.append(prepared)
        else:
            outcomes[row.pk] = prepared
    by_mailer: dict[str | None, list[Prepared]] = {}
    for item in ready:  # each mail stream through its own mailer (MAIL_STREAMS)
        by_mailer.setdefault(mailer_for(item.row.event), []).append(item)
    chunks = [
        (mailer, items[start : start + chunk_size])
        for mailer, items in by_mailer.items()
        for start in range(0, len(items), chunk_size)
    ]
    for mailer, chunk in chunks:
        for item in chunk:
            item.row.send_started = True  # from here on the ESP may have the message
        try:
            verdicts = _send_chunk([item.message for item in chunk], mailer)
        except Exception as exc:  # noqa: BLE001 - as message.send() raising one by one
            verdicts = [classify(exc)] * len(chunk)
        for item, verdict in zip(chunk, verdicts, strict=True):
            try:
                if verdict is None:
                    outcomes[item.row.pk] = _record_sent(item)
                else:
                    outcomes[item.row.pk] = _apply_verdict(item.row, item.rendered, verdict)
            except Exception as exc:  # noqa: BLE001 - left to the sweep (send_started)
                outcomes[item.row.pk] = _unexpected_error(item.row, exc)
    return outcomes


def _send_chunk(messages: list[EmailMultiAlternatives], mailer: str | None = None) -> list[Verdict | None]:
    """One batch call through this thread's ESP connection of ``mailer`` (a
    new one after a transient error reset it); one call per message if that
    mailer's backend has no batch sender."""
    connection = _connection(mailer)
    batch_sender = batch_sender_for(connection)
    if batch_sender is None:
        verdicts: list[Verdict | None] = []
        for message in messages:
            try:
                connection.send_messages([message])
                verdicts.append(None)
            except Exception as exc:  # noqa: BLE001 - sorted by classify(), as one by one
                verdicts.append(classify(exc))
        return verdicts
    verdicts = batch_sender.send(messages)
    if len(verdicts) != len(messages):
        raise RuntimeError(f"{type(batch_sender).__name__} answered for {len(verdicts)} of {len(messages)}")
    return verdicts


def _render_failed(row: OutboxEmail, exc: Exception) -> str:
    reason = f"render error: {type(exc).__name__}: {exc}"
    logger.exception("Email %s could not be rendered", row.pk)
    _finish(row, Status.FAILED, reason, last_error=reason[:2000])
    return Status.FAILED


def _handle_send_error(row: OutboxEmail, rendered, exc: BaseException) -> str:
    return _apply_verdict(row, rendered, classify(exc))


def _apply_verdict(row: OutboxEmail, rendered, verdict: Verdict) -> str:
    """Record a message the ESP did not take: failed for good, or retried later."""
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
