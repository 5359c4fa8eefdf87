"""One by one: one claimed row, one ESP call, its outcome recorded right
after the call (the default path; ``docs/reliability.md``)."""

from __future__ import annotations

from ..outbox.models import OutboxEmail
from ..streams import mailer_for
from .connection import _connection
from .outcome import handle_send_error, record_sent, unexpected_error
from .preparation import Prepared, prepare


def deliver_claimed(row: OutboxEmail) -> str:
    """Check, render, send and record a row this worker claimed: the three
    phases one after the other (:func:`~.preparation.prepare`, the ESP call
    through this thread's kept-alive connection, :func:`~.outcome.record_sent`
    or the send error's verdict)."""
    prepared = prepare(row)
    if not isinstance(prepared, Prepared):
        return prepared
    row.send_started = True  # from here on the ESP may have the message
    try:
        # The connection's own send_messages(): Django 6.1 deprecates
        # EmailMessage.connection; the mailer is the event's stream's.
        _connection(mailer_for(row.event)).send_messages([prepared.message])
    except Exception as exc:  # noqa: BLE001 - sorted by classify()
        return handle_send_error(row, prepared.rendered, exc)
    return record_sent(prepared)


def deliver_one(row: OutboxEmail) -> str:
    """:func:`deliver_claimed`, with any error nobody classified handled
    (:func:`~.outcome.unexpected_error`): one email's problem never stops
    the others."""
    try:
        return deliver_claimed(row)
    except Exception as exc:  # noqa: BLE001 - one email's problem, not the batch's
        return unexpected_error(row, exc)
