"""The sync's runs: the counts of one sync, and its row in the sync log.

:class:`SyncSummary` is what :func:`.sync.sync_pages` returns and the
command prints; :class:`~.models.MarketplaceSyncRun` is the same, kept for
staff in the admin (runs with their counts, each run's malformed lines with
their reasons).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .models import MarketplaceSyncRun


@dataclass
class SyncSummary:
    """The counts of one run. ``ignored`` includes the ``stale`` updates and
    the ``duplicates`` (repeats); ``failed`` includes the ``malformed`` ones."""

    marketplace: str
    pages: int = 0
    applied: int = 0
    ignored: int = 0
    duplicates: int = 0
    stale: int = 0
    failed: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)
    source_error: str = ""
    newest: datetime | None = None
    #: The run's row in the sync log (:class:`~.models.MarketplaceSyncRun`).
    run: MarketplaceSyncRun | None = None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.source_error

    def as_dict(self) -> dict:
        return {
            "marketplace": self.marketplace,
            "pages": self.pages,
            "applied": self.applied,
            "ignored": self.ignored,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "failed": self.failed,
            "malformed": self.malformed,
            "problems": self.problems[:50],
            "source_error": self.source_error,
            "newest": self.newest.isoformat() if self.newest else None,
            "run": self.run.pk if self.run else None,
        }

    def __str__(self) -> str:
        text = (
            f"{self.marketplace}: {self.pages} page(s), {self.applied} applied, "
            f"{self.ignored} ignored ({self.stale} stale, {self.duplicates} repeats), "
            f"{self.failed} failed ({self.malformed} malformed)"
        )
        return f"{text}; feed stopped: {self.source_error}" if self.source_error else text

    def _seen(self, sequence: datetime | None) -> None:
        if sequence is not None and (self.newest is None or sequence > self.newest):
            self.newest = sequence


def start_run(marketplace: str, source: str = "") -> MarketplaceSyncRun:
    return MarketplaceSyncRun.objects.create(marketplace=marketplace, source=source[:255])


def finish_run(summary: SyncSummary) -> None:
    """Write the run's counts (its own statement: the items committed already)."""
    run = summary.run
    if run is None:
        return
    MarketplaceSyncRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        pages=summary.pages,
        applied=summary.applied,
        stale=summary.stale,
        ignored=summary.ignored,
        repeats=summary.duplicates,
        malformed=summary.malformed,
        failed=summary.failed,
        source_error=summary.source_error,
    )
