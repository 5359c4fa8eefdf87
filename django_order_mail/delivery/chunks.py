"""The batch path (``ESP_BATCH_SEND``): claimed rows prepared one by one, sent
in one API call per chunk, each answer recorded on its own after the call.

A chunk is the rows of one claim (at most ``DELIVERY_BATCH_SIZE``). Each
chunk goes to a sending thread of its own (:mod:`.flow`), so a worker process
keeps up to ``DELIVERY_CONCURRENCY`` batch calls in flight. The duplicate
window is one API call: a worker that dies between the ESP's answer and the
recording leaves that call's rows for the sweep to send again
(:mod:`django_order_mail.delivery.batch`).
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMultiAlternatives

from ..app_settings import app_settings
from ..outbox.models import OutboxEmail
from ..streams import mailer_for
from .batch import batch_sender_for
from .connection import _connection
from .errors import Verdict, classify
from .outcome import apply_verdict, record_sent, unexpected_error
from .preparation import Prepared, prepare

logger = logging.getLogger("django_order_mail.delivery")


def batch_chunk_size() -> int | None:
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


def deliver_chunk(rows: list[OutboxEmail], chunk_size: int) -> dict[int, str]:
    """:func:`prepare` every row (a veto, a skip or a render error is
    recorded for that row alone, as one by one), send the prepared messages
    in calls of at most ``chunk_size`` per mailer, then record each
    message's answer on its own."""
    outcomes: dict[int, str] = {}
    ready: list[Prepared] = []
    for row in rows:
        try:
            prepared = prepare(row)
        except Exception as exc:  # noqa: BLE001 - one email's problem, not the batch's
            outcomes[row.pk] = unexpected_error(row, exc)
            continue
        if isinstance(prepared, Prepared):
            ready.append(prepared)
        else:
            outcomes[row.pk] = prepared
    by_mailer: dict[str | None, list[Prepared]] = {}
    for item in ready:  # each mail stream through its own mailer (MAIL_STREAMS)
        by_mailer.setdefault(mailer_for(item.row.event), []).append(item)
    calls = [
        (mailer, items[start : start + chunk_size])
        for mailer, items in by_mailer.items()
        for start in range(0, len(items), chunk_size)
    ]
    for mailer, call in calls:
        for item in call:
            item.row.send_started = True  # from here on the ESP may have the message
        try:
            verdicts = send_chunk([item.message for item in call], mailer)
        except Exception as exc:  # noqa: BLE001 - as message.send() raising one by one
            verdicts = [classify(exc)] * len(call)
        for item, verdict in zip(call, verdicts, strict=True):
            try:
                if verdict is None:
                    outcomes[item.row.pk] = record_sent(item)
                else:
                    outcomes[item.row.pk] = apply_verdict(item.row, item.rendered, verdict)
            except Exception as exc:  # noqa: BLE001 - left to the sweep (send_started)
                outcomes[item.row.pk] = unexpected_error(item.row, exc)
    return outcomes


def send_chunk(messages: list[EmailMultiAlternatives], mailer: str | None = None) -> list[Verdict | None]:
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
