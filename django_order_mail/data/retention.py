"""Retention: delete, or strip, what is older than its kind's period.

``manage.py order_mail_retention`` and the Celery task
``django_order_mail.retention`` call :func:`run_retention`, which asks each
registered kind (:mod:`.registry`) to expire its rows older than
``ORDER_MAIL["RETENTION"][kind]`` days. A kind does its work through
:meth:`RetentionRun.delete` and :meth:`RetentionRun.update`, which walk the
matching rows in primary-key order, ``RETENTION_BATCH_SIZE`` at a time, each
batch in its own short transaction that locks only the rows it changes
(``FOR UPDATE SKIP LOCKED``: a row a worker holds is left for the next run),
then pausing ``RETENTION_PAUSE`` times as long as the batch took, so sends
running meanwhile keep their share of the database. While emails are being
sent it steps further aside (:data:`BUSY_FACTOR`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Max, Min, Model, QuerySet
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone

from ..app_settings import app_settings
from .registry import registered, retention_defaults

logger = logging.getLogger("django_order_mail.data")

#: While emails are being sent (a due ``queued`` row or one ``sending``), the
#: pause after a batch grows to this many times what the batch took, so
#: retention takes at most a twentieth of the time from the sends. Measured
#: on the bench machine (``docs/performance.md``, *Growth*): at
#: ``RETENTION_PAUSE`` alone (half the time) its deletions slowed a send
#: burst by a third; at a tenth of the time it slowed one by up to 12 % (part
#: of that was a full read of the send log per run, which
#: :meth:`RetentionRun.older_than` and the partial index of rows with a body
#: removed since), the sends being CPU-bound on two cores. Retention is
#: housekeeping: the customers' emails go first.
#: The wait ends as soon as sending stops, looked at every
#: :data:`BUSY_CHECK` seconds (two reads of tiny partial indexes).
#: ``RETENTION_PAUSE = 0`` (``--pause 0``) runs flat out regardless.
BUSY_FACTOR = 19.0
BUSY_CHECK = 0.25
#: While emails are being sent a batch is this much smaller, so what
#: retention does between two pauses stays short too: a full batch of body
#: stripping rewrites a thousand wide rows and their index entries at once,
#: which alone slowed the send burst it fell into by up to a quarter on the
#: bench machine.
BUSY_BATCH_DIVISOR = 10


def retention_periods() -> dict[str, int | None]:
    """Kind -> days: the registered defaults with ``RETENTION`` over them."""
    return {**retention_defaults(), **(app_settings.RETENTION or {})}


@dataclass
class RetentionRun:
    """One retention pass: its time, batch size and whether it only counts."""

    now: datetime = field(default_factory=timezone.now)
    batch_size: int = 0
    dry_run: bool = False
    #: After each batch, wait this many times as long as it took
    #: (``RETENTION_PAUSE`` unless given).
    pause: float | None = None
    #: Statements run (batches), for the report and the tests.
    batches: int = 0
    #: Seconds spent pausing, for the report and the tests.
    paused: float = 0.0

    def __post_init__(self):
        self.batch_size = self.batch_size or app_settings.RETENTION_BATCH_SIZE
        if self.pause is None:
            self.pause = app_settings.RETENTION_PAUSE

    def _batches(self, queryset: QuerySet, change) -> int:
        model: type[Model] = queryset.model
        if self.dry_run:
            return queryset.count()
        alias = router.db_for_write(model)
        features = connections[alias].features
        done, last = 0, None
        busy = bool(self.pause) and _sending()
        while True:
            size = max(1, self.batch_size // BUSY_BATCH_DIVISOR) if busy else self.batch_size
            started = time.monotonic()
            with transaction.atomic(using=alias):
                batch = queryset.using(alias).order_by("pk")
                if last is not None:
                    batch = batch.filter(pk__gt=last)
                if features.has_select_for_update_skip_locked:
                    of = ("self",) if features.has_select_for_update_of else ()
                    batch = batch.select_for_update(skip_locked=True, of=of)
                ids = list(batch.values_list("pk", flat=True)[:size])
                if not ids:
                    return done
                done += change(model._base_manager.using(alias).filter(pk__in=ids))
                self.batches += 1
            last = ids[-1]
            busy = self._rest(time.monotonic() - started)

    def _rest(self, took: float) -> bool:
        """Leave the database to the workers for ``pause`` times what the
        batch took, and while emails are being sent up to
        :data:`BUSY_FACTOR` times: the sends' share stays (``bench/growth.py``
        measures it). Whether emails were still being sent at the end."""
        if not self.pause:
            return False
        self._sleep(took * self.pause)
        more = took * max(BUSY_FACTOR - self.pause, 0.0)
        busy = _sending()
        while more > 0 and busy:
            step = min(BUSY_CHECK, more)
            self._sleep(step)
            more -= step
            busy = _sending()
        return busy

    def _sleep(self, seconds: float) -> None:
        self.paused += seconds
        time.sleep(seconds)

    def delete(self, queryset: QuerySet) -> int:
        """Delete the rows of ``queryset`` in batches; how many rows of its model.

        Django's delete loads every row it deletes (to cascade and to send
        ``pre_delete``/``post_delete``); when no receiver listens for the
        model, only the keys are loaded, not every column: a third faster
        per batch of the send log (``bench/growth.py``)."""
        model = queryset.model
        label, pk = model._meta.label, model._meta.pk.name

        def change(rows: QuerySet) -> int:
            if not (pre_delete.has_listeners(model) or post_delete.has_listeners(model)):
                rows = rows.only(pk)
            return rows.delete()[1].get(label, 0)

        return self._batches(queryset, change)

    def update(self, queryset: QuerySet, **values: Any) -> int:
        """Set ``values`` on the rows of ``queryset`` in batches (a queryset
        that no longer matches its rows once changed, so a rerun has nothing to do)."""
        return self._batches(queryset, lambda rows: rows.update(**values))

    def older_than(self, queryset: QuerySet, cutoff: datetime, field: str = "created_at") -> QuerySet:
        """The rows of ``queryset`` whose ``field`` is before ``cutoff``, for
        :meth:`delete` and :meth:`update`, within the keys worth walking.

        The batches walk the table in primary-key order. When nothing (or
        nothing more) is old enough, PostgreSQL would read on to the end of
        the table to be sure: every row of a send log kept for years, on
        every run (``docs/performance.md``, *Growth*). Rows get their key
        when they are written, so keys grow with ``field``: a binary search
        of a few one-row reads (:func:`first_key_after`) finds the key from
        which rows are newer than ``cutoff`` plus :data:`KEY_ORDER_SLACK`,
        and the walk stops there. A row written later with an older ``field``
        (an import) is reached once the rows around it are old enough."""
        rows = queryset.filter(**{f"{field}__lt": cutoff})
        bound = first_key_after(queryset.model, field, cutoff + KEY_ORDER_SLACK)
        return rows if bound is None else rows.filter(pk__lt=bound)


#: How far ``field`` may run behind key order (transactions committing out
#: of order, clocks of several web servers) for :meth:`RetentionRun.older_than`.
KEY_ORDER_SLACK = timedelta(days=1)


def first_key_after(model: type[Model], field: str, moment: datetime) -> int | None:
    """The smallest integer key from which the rows of ``model`` have
    ``field`` at or after ``moment``, found by binary search on the primary
    key (one indexed one-row read per step: about 25 for 10,000,000 rows);
    None when every row is older or the key is not an integer."""
    manager = model._base_manager.using(router.db_for_write(model))
    ends = manager.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = ends["low"], ends["high"]
    if not isinstance(low, int) or not isinstance(high, int):
        return None
    high += 1  # "none is newer" until a read says otherwise
    end = high
    while low < high:
        middle = (low + high) // 2
        value = manager.filter(pk__gte=middle).order_by("pk").values_list(field, flat=True).first()
        if value is not None and value >= moment:
            high = middle
        else:
            low = middle + 1
    return None if low == end else low


def _sending() -> bool:
    """Whether workers are sending: an email due (``queued``, its
    ``send_after`` passed) or in an ESP call (``sending``). An email waiting
    minutes for its next attempt is queued too, but nothing is sent yet:
    retention does not wait for it (in the growth bench's retention-alone
    run, 17 such retries made it step aside for minutes)."""
    from ..delivery.claim import due_emails
    from ..outbox.models import OutboxEmail, Status

    using = router.db_for_read(OutboxEmail)
    sending = OutboxEmail.objects.using(using).filter(status=Status.SENDING)
    return sending.exists() or due_emails(timezone.now()).using(using).exists()


def run_retention(
    *, dry_run: bool = False, batch_size: int = 0, now: datetime | None = None, pause: float | None = None
) -> dict:
    """Expire every registered kind with a period; kind -> rows (counted
    only, with ``dry_run``)."""
    run = RetentionRun(now=now or timezone.now(), batch_size=batch_size, dry_run=dry_run, pause=pause)
    periods = retention_periods()
    counts: dict[str, int] = {}
    for entry in registered():
        days = periods.get(entry.label)
        if entry.expire is None or days is None:
            continue
        counts[entry.label] = entry.expire(run.now - timedelta(days=days), run)
    logger.info("retention%s: %s", " (dry run)" if dry_run else "", counts)
    return counts
