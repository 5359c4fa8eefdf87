"""Keep a worker process's ESP calls in flight: hand claimed rows to the
sending threads as soon as one is free, and claim more while there is room.

A ``send_emails`` task claims the rows of its message, then runs
:func:`deliver_rows`: the rows go to the process's ``DELIVERY_CONCURRENCY``
sending threads (:mod:`.connection`), one email per thread at a time, each
recorded right after its own call (one by one), or one chunk per thread at a
time (``ESP_BATCH_SEND``: one batch call per chunk, :mod:`.chunks`). As soon
as fewer rows wait than threads are free, the task claims further due rows
itself (:func:`~.claim.claim_due`, ``SKIP LOCKED``), up to
``DELIVERY_BATCH_SIZE`` at a time, so the threads never sit idle while
emails are due: not behind the slowest email of a batch, not when the
publisher handed a trickle of orders over one id per message. It stops
claiming after ``DELIVERY_KEEP_CLAIMING`` seconds (the next message carries
on) and returns once the calls it started are recorded.

What does not change: a row is sent by whoever claimed it (the claim is a
compare-and-set under the row's lock), each email's outcome is committed
right after its own ESP call, a row left ``sending`` by a dead worker is
released by the sweep, and the broker messages of rows claimed here find
them no longer ``queued`` and claim nothing. The rows claimed but not yet
handed to a thread are at most ``DELIVERY_BATCH_SIZE`` plus the free
threads: a worker killed now delivers them late (after
``SENDING_TIMEOUT``), never twice, as before.

Each claim reads its rows' orders, shipments and suppression entries in a
few queries and shares its lookups (:mod:`django_order_mail.memo`); the
threads run each row in a copy of that claim's context.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait

from ..app_settings import app_settings
from ..memo import batch_scope
from ..outbox.models import OutboxEmail
from .chunks import batch_chunk_size, deliver_chunk
from .claim import _prefetch, claim_due, claim_many
from .connection import _drop_broken_connection, _pool, check_idle_database_connection
from .single import deliver_one

logger = logging.getLogger("django_order_mail.delivery")

Work = Callable[[], dict[int, str]]

#: The clock of the deadline and of the looks (tests freeze it).
clock = time.monotonic

#: After a look for due rows found none, the next look waits this long
#: (seconds), however often a sending thread comes free meanwhile; doubled
#: after each look that finds nothing, up to LOOK_AGAIN_MAX, and back to
#: LOOK_AGAIN_AFTER once a look finds rows. A task's threads wait at most
#: LOOK_AGAIN_MAX for a row committed meanwhile (its broker message may sit
#: behind the running task), and an idle-ish worker costs the database a
#: few cheap reads a second, not a hundred.
LOOK_AGAIN_AFTER = 0.01
LOOK_AGAIN_MAX = 0.1


def deliver_rows(ids: list[int], *, keep_claiming: float = 0.0) -> dict[int, str]:
    """Claim ``ids`` and send them; with ``keep_claiming`` > 0, also claim
    and send other due rows for up to that many seconds while the sending
    threads have room. Returns what happened to each row it claimed (and
    ``"not-claimed"`` for the ids it could not claim)."""
    ids = list(dict.fromkeys(ids))
    outcomes: dict[int, str] = dict.fromkeys(ids, "not-claimed")
    threads = max(1, app_settings.DELIVERY_CONCURRENCY)
    deadline = clock() + keep_claiming
    chunk_size: int | None = None
    checked_batch_path = False
    queue: deque[Work] = deque()

    def claim(rows: list[OutboxEmail]) -> None:
        """Queue the work of one claim, with its prefetch and memo."""
        nonlocal chunk_size, checked_batch_path
        if not rows:
            return
        if not checked_batch_path:
            chunk_size, checked_batch_path = batch_chunk_size(), True
        with batch_scope():
            try:
                _prefetch(rows)
            except Exception:
                logger.exception("Loading the orders of a batch failed; each email loads its own")
                _drop_broken_connection()
            # A context is entered by one thread at a time: one copy per
            # piece of work, all sharing this claim's memo.
            if chunk_size:
                queue.append(_chunk(contextvars.copy_context(), rows, chunk_size))
            else:
                queue.extend(_one(contextvars.copy_context(), row) for row in rows)

    def more() -> int:
        """Claim further due rows; how many (0 once there are none or it is time to stop)."""
        if keep_claiming <= 0 or clock() >= deadline:
            return 0
        try:
            rows = claim_due(app_settings.DELIVERY_BATCH_SIZE)
        except Exception:
            logger.exception("Claiming further due emails failed; the broker's messages carry on")
            _drop_broken_connection()
            return 0
        claim(rows)
        return len(rows)

    claim(claim_many(ids))
    if threads == 1:
        # One after the other in the task's own thread (and its connections).
        while queue or more():
            outcomes.update(queue.popleft()())
        return outcomes

    pool = _pool(threads)
    running: set[Future] = set()
    claiming, next_look, look_after = True, 0.0, LOOK_AGAIN_AFTER
    while True:
        while claiming and len(queue) < threads - len(running) and clock() >= next_look:
            found = more()
            if found >= app_settings.DELIVERY_BATCH_SIZE:
                look_after = LOOK_AGAIN_AFTER  # a backlog: look again at once
                continue
            if found and not chunk_size:
                look_after = LOOK_AGAIN_AFTER
            elif found:
                # The batch path took what was due: let the next call gather more.
                look_after = LOOK_AGAIN_MAX
            next_look = clock() + look_after
            if not found:
                look_after = min(look_after * 2, LOOK_AGAIN_MAX)
        while queue and len(running) < threads:
            running.add(pool.submit(queue.popleft()))
        if not running:
            break
        # With a thread free, wake up for the next look even if no call
        # ends meanwhile (one slow call must not stop the others' work).
        timeout = max(0.0, next_look - clock()) if claiming and len(running) < threads else None
        done, pending = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
        running = set(pending)
        for future in done:
            try:
                outcomes.update(future.result())
            except Exception:  # its rows stay "sending": the sweep's to judge
                logger.exception("A sending thread failed outside any email's handling")
        claiming = keep_claiming > 0 and clock() < deadline
    return outcomes


def _one(context: contextvars.Context, row: OutboxEmail) -> Work:
    def work() -> dict[int, str]:
        check_idle_database_connection()
        return {row.pk: context.run(deliver_one, row)}

    return work


def _chunk(context: contextvars.Context, rows: list[OutboxEmail], size: int) -> Work:
    def work() -> dict[int, str]:
        check_idle_database_connection()
        return context.run(deliver_chunk, rows, size)

    return work
