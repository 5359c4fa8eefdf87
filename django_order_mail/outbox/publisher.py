"""Hand committed outbox ids to the broker without making the request wait.

A transition's transaction commits its outbox rows; the broker only needs to
hear about them *after* that. Publishing in the on-commit callback itself
puts a broker round trip (about 1-2 ms with Redis, far more when the broker
is slow or down and the retry policy runs) into every checkout request. The
:class:`BackgroundPublisher` instead takes the ids in the callback (a queue
put: microseconds) and one daemon thread per process publishes them. It
lingers a moment (20 ms) after the first id, and longer (up to 100 ms) while
ids keep pouring in, so that a burst of transitions becomes broker messages
carrying ``DELIVERY_BATCH_SIZE`` ids each (``send_emails``), which the
workers claim and send as batches.

Nothing can be lost this way that could not be lost before: the rows are
already committed as ``queued``, so ids that never reach the broker (the
process exits or is killed first, the broker is down) are re-published by
the periodic sweep after ``REQUEUE_AFTER`` seconds, exactly as after a
broker outage. On a normal exit the queue is drained first (``atexit``).

Forked processes (gunicorn, celery prefork) each start their own thread on
first use: a thread does not survive ``fork()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("django_order_mail.outbox")

_STOP = object()


class BackgroundPublisher:
    """A queue and the daemon thread that empties it into ``publish``.

    ``publish(ids, countdown)`` is the synchronous publisher
    (:func:`django_order_mail.outbox.enqueue.publish`); it is looked up on
    every batch so tests and shops can wrap it.
    """

    def __init__(
        self,
        publish: Callable[[list[int], float | None], int],
        *,
        max_batch: int = 500,
        linger: float = 0.02,
        max_linger: float = 0.1,
        target: Callable[[], int] = lambda: 1,
    ):
        self._publish = publish
        self._max_batch = max_batch
        self._linger = linger
        self._max_linger = max_linger
        self._target = target
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0

    def submit(self, ids: list[int], countdown: float | None = None) -> None:
        """Queue ``ids`` for publishing; returns at once."""
        if not ids:
            return
        self._ensure_thread()
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((list(ids), countdown))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far was handed to ``publish``
        (True) or ``timeout`` passed (False)."""
        if self._thread is None or self._pid != os.getpid():
            return True
        return self._idle.wait(timeout)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == pid and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != pid:
                # A forked child inherits the parent's queue object and
                # counters but not its thread: start clean.
                self._queue = queue.SimpleQueue()
                self._pending = 0
                self._idle.set()
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name="order-mail-publisher", daemon=True)
            self._thread.start()

    def _take_batch(self) -> list[tuple[list[int], float | None]] | None:
        """Wait for ids; then gather more while they keep coming.

        After the first id the thread sleeps ``linger`` and takes what
        arrived. While ids keep arriving fast (at least two submits per
        ``linger``: a burst) and fewer than ``target()`` ids are gathered
        (a full ``send_emails`` message), it sleeps again, up to
        ``max_linger`` in all. A quiet shop's email waits one ``linger``; a
        burst becomes full messages, which the workers send as batches.
        """
        first = self._queue.get()
        if first is _STOP:
            return None
        batch = [first]
        if not self._linger:
            self._drain_into(batch)
            return batch
        target = max(1, self._target())
        deadline = time.monotonic() + self._max_linger
        while True:
            # Sleep rather than wait on the queue: a waiting thread would be
            # woken (and take the GIL from the request thread) by every put.
            time.sleep(self._linger)
            before = len(batch)
            stopped = self._drain_into(batch)
            gathered = sum(len(ids) for ids, _ in batch)
            if (
                stopped
                or len(batch) - before < 2
                or gathered >= target
                or len(batch) >= self._max_batch
                or time.monotonic() >= deadline
            ):
                return batch

    def _drain_into(self, batch: list) -> bool:
        """Move queued submits into ``batch``; True if a stop was seen."""
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                self._queue.put(_STOP)  # seen after this batch
                return True
            batch.append(item)
        return False

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            by_countdown: dict[float | None, list[int]] = {}
            for ids, countdown in batch:
                by_countdown.setdefault(countdown, []).extend(ids)
            for countdown, ids in by_countdown.items():
                try:
                    self._publish(ids, countdown)
                except Exception:  # never let the thread die: the sweep re-publishes
                    logger.exception("Publishing %d outbox ids failed; the sweep will retry", len(ids))
            with self._lock:
                self._pending -= len(batch)
                if self._pending <= 0:
                    self._pending = 0
                    self._idle.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish what is queued (up to ``timeout`` seconds), then stop."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        self._thread = None


def _publish(ids: list[int], countdown: float | None) -> int:
    from . import enqueue

    return enqueue.publish(ids, countdown=countdown)


def _batch_size() -> int:
    from ..app_settings import app_settings

    return app_settings.DELIVERY_BATCH_SIZE


publisher = BackgroundPublisher(_publish, target=_batch_size)
atexit.register(publisher.stop)
