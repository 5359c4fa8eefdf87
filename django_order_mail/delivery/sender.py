"""Deliver outbox rows: claim, then per row prepare, send, record.

Claiming is a compare-and-set ``UPDATE ... WHERE status = 'queued'``: the
database row lock makes a second worker that got the same id (a redelivered
broker message, the sweep re-publishing) update nothing and walk away, on
PostgreSQL across any number of machines and on SQLite alike.

A claimed row goes through three phases: :func:`~.preparation.prepare` (the
checks, the ``pre_send``/``pre_render`` receivers, the frequency cap,
rendering; every stop recorded with its reason), the ESP call, and the
recording of its answer (:mod:`.outcome`). One by one (the default,
:mod:`.single`), the answer is recorded in the statement right after the
row's own API call returns, which keeps the one window where a duplicate is
possible (ESP accepted, worker died before recording) one email wide.

With ``ESP_BATCH_SEND`` and an ESP that has a batch endpoint
(:mod:`django_order_mail.delivery.batch`), the rows of a claim are prepared
first, then sent in one API call and recorded one by one after it
(:mod:`.chunks`): the duplicate window is then the whole call, and a worker
that dies between the ESP's answer and the recording leaves up to the whole
chunk for the sweep to send again.

The process's sending threads and the claiming of further due rows while
they have room are :mod:`.flow`'s.
"""

from __future__ import annotations

from .chunks import batch_chunk_size, deliver_chunk, send_chunk  # noqa: F401
from .claim import _prefetch, claim, claim_due, claim_many  # noqa: F401

# Re-exported: sender._local, sender._connection and sender.reset_connection
# are where tests and benches reach the sending thread's connection.
from .connection import _connection, _drop_broken_connection, _local, _pool, reset_connection  # noqa: F401
from .flow import deliver_rows
from .outcome import _finish, apply_verdict, record_sent, retry_delay, retry_later, unexpected_error  # noqa: F401
from .preparation import Prepared, prepare  # noqa: F401
from .single import deliver_claimed, deliver_one  # noqa: F401


def deliver(email_id: int) -> str:
    """Send outbox row ``email_id`` if it is due and nobody else is; return
    what happened (for logs and tests)."""
    row = claim(email_id)
    if row is None:
        return "not-claimed"
    return deliver_claimed(row)


def deliver_batch(ids: list[int], *, keep_claiming: float = 0.0) -> dict[int, str]:
    """Send the outbox rows ``ids`` as one batch; return what happened to each.

    One statement claims them all; their orders (with the order model's
    ``mail_prefetch_related``), shipments and suppression entries are read
    in a few queries, and template choices and A/B tests once
    (:mod:`django_order_mail.memo`). Each email is still checked, rendered,
    sent and recorded on its own, right after its ESP call (by
    ``DELIVERY_CONCURRENCY`` sending threads), and one email's failure never
    stops the others; with ``ESP_BATCH_SEND`` and an ESP that has a batch
    endpoint, the prepared emails go in one call instead (:mod:`.chunks`).
    A row this worker could not finish (it was killed, the database went
    away) stays ``sending`` until the sweep releases it after
    ``SENDING_TIMEOUT``.

    ``keep_claiming`` (seconds, the ``send_emails`` task passes
    ``DELIVERY_KEEP_CLAIMING``): meanwhile, claim and send further due rows
    while the sending threads have room (:mod:`.flow`); their outcomes are
    returned too.
    """
    return deliver_rows(ids, keep_claiming=keep_claiming)
