"""Apply a feed: pages -> items -> updates, one transaction per item.

The rules, whatever the marketplace:

* **Nothing lost.** Every item leaves one :class:`~.models.MarketplaceOrderUpdate`
  row: ``applied``, ``ignored`` (with the reason) or ``failed`` (with the
  reason). A malformed item, an unknown status, a page that is an error
  answer, a resolver or transition that raises: each is recorded and
  reported, and the sync goes on with the next item. An item's order change
  and its log row commit together.
* **Nothing doubled.** A repeat of an item (same order id, same payload hash)
  that was applied or ignored is skipped without a new row - a unique
  constraint guards this against two syncs at once. A repeat of a *failed*
  item is tried again.
* **In order.** Within a page, updates are applied oldest first (by the
  marketplace timestamp; items without one come last, in feed order). Across
  pages and runs, :func:`.applier.apply_update` ignores anything older than
  the last applied update of the order or behind its state.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from itertools import chain
from pathlib import Path

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ..exceptions import OrderMailError
from .applier import UpdateConflictError, apply_update
from .base import BaseAdapter, MarketplaceUpdate, get_adapter
from .models import MarketplaceOrderUpdate, MarketplaceSyncCursor, Outcome, Problem
from .parsing import MAX_NESTING, MalformedUpdateError, nested_too_deeply, payload_hash
from .runs import SyncSummary, finish_run, start_run

logger = logging.getLogger("django_order_mail.marketplaces")

_OLDEST = datetime.min.replace(tzinfo=dt_timezone.utc)


class FeedError(OrderMailError):
    """The feed as a whole cannot be read (missing file, not JSON, nested
    deeper than :data:`~.parsing.MAX_NESTING` levels)."""


@dataclass
class InvalidPage:
    """A line of a JSON Lines feed that is not JSON: recorded as one failure."""

    reason: str
    text: str


# -- feeds ---------------------------------------------------------------------
def _is_page(value) -> bool:
    return isinstance(value, dict) and any(k.endswith("_response") or k in ("result", "items") for k in value)


def pages_from_file(path: str | Path) -> Iterator:
    """Pages of a JSON feed file: one API answer, a list of answers (pages), a
    list of order items (one page), or JSON Lines with one answer per line.

    The whole file is parsed here, so a file that cannot be used (unreadable,
    not JSON, nested too deeply) raises :class:`FeedError` before anything
    is applied or the cursor moves."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedError(f"cannot read feed file {path}: {exc}") from exc
    try:
        data = _load_json(text, str(path))
    except json.JSONDecodeError as exc:
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            raise FeedError(f"{path} is not JSON: {exc.msg} (line {exc.lineno})") from exc
        return iter(list(_json_lines(path, lines)))
    if isinstance(data, list) and data and all(_is_page(p) for p in data):
        return iter(data)
    return iter([data])


def _load_json(text: str, where: str):
    """``json.loads`` that refuses arrays/objects nested deeper than
    ``MAX_NESTING`` with a :class:`FeedError` instead of a ``RecursionError``."""
    too_deep = FeedError(
        f"{where} is nested too deeply (more than {MAX_NESTING} levels of arrays or objects)"
    )
    try:
        data = json.loads(text)
    except RecursionError:
        raise too_deep from None
    if nested_too_deeply(data):
        raise too_deep
    return data


def _json_lines(path: Path, lines: list[str]) -> Iterator:
    for number, line in enumerate(lines, start=1):
        try:
            yield _load_json(line, f"{path.name} line {number}")
        except json.JSONDecodeError as exc:
            yield InvalidPage(f"{path.name} line {number} is not JSON: {exc.msg}", line)


def pages_from_source(dotted_path: str, since: datetime | None = None) -> Iterable:
    """Call the shop's page source: a generator of API answers (pages).

    It receives ``since`` - the newest marketplace timestamp seen by earlier
    syncs - when it accepts that argument, so it can ask only for orders
    modified since then.
    """
    source = import_string(dotted_path)
    params: Mapping[str, inspect.Parameter]
    try:
        params = inspect.signature(source).parameters
    except (TypeError, ValueError):
        params = {}
    takes_since = "since" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    return source(since=since) if takes_since else source()


# -- applying ------------------------------------------------------------------
def sync_pages(
    adapter: BaseAdapter, pages: Iterable, *, notify: bool = True, source: str = ""
) -> SyncSummary:
    """Apply every item of every page; return the counts. Never raises for a
    bad item or page; a page source that raises ends the run (``source_error``).
    The run is logged (:class:`~.models.MarketplaceSyncRun`) with ``source``
    (what it read) and its counts."""
    adapter.check_configured()
    summary = SyncSummary(adapter.name, run=start_run(adapter.name, source))
    iterator = iter(pages)
    while True:
        try:
            page = next(iterator)
        except StopIteration:
            break
        except Exception as exc:  # the shop's API client: report it, keep what was applied
            summary.source_error = f"{type(exc).__name__}: {exc}"
            logger.exception("%s feed stopped after %d page(s)", adapter.name, summary.pages)
            break
        summary.pages += 1
        apply_page(adapter, page, summary.pages, summary, notify=notify)
    _advance_cursor(adapter.name, summary)
    finish_run(summary)
    level = logging.INFO if summary.ok else logging.WARNING
    logger.log(level, "marketplace sync %s", summary)
    return summary


def apply_page(adapter: BaseAdapter, page, number: int, summary: SyncSummary, *, notify: bool = True) -> None:
    if isinstance(page, InvalidPage):
        _record_failure(adapter, summary, payload_hash(page.text), page.reason, problem=Problem.MALFORMED)
        return
    if nested_too_deeply(page):  # a page source's; files are checked when read
        reason = f"page {number}: nested too deeply (more than {MAX_NESTING} levels of arrays or objects)"
        _record_failure(adapter, summary, payload_hash(reason), reason, problem=Problem.MALFORMED)
        return
    try:
        items = list(adapter.iter_items(page))
    except Exception as exc:  # noqa: BLE001 - MalformedUpdateError or an adapter bug on odd input
        _record_failure(
            adapter,
            summary,
            payload_hash(page),
            f"page {number}: {_describe(exc)}",
            problem=Problem.MALFORMED,
        )
        return
    updates: list[MarketplaceUpdate] = []
    for index, item in enumerate(items):
        try:
            updates.append(adapter.parse(item))
        except Exception as exc:  # noqa: BLE001 - one bad item must not cost the others
            _record_failure(
                adapter,
                summary,
                payload_hash(item),
                f"page {number} item {index + 1}: {_describe(exc)}",
                external_id=getattr(exc, "external_id", ""),
                status=getattr(exc, "status", ""),
                problem=Problem.MALFORMED,
            )
    updates.sort(key=lambda u: (u.sequence is None, u.sequence or _OLDEST))
    for update in updates:
        apply_item(adapter, update, summary, notify=notify)


def apply_item(adapter: BaseAdapter, update: MarketplaceUpdate, summary: SyncSummary, *, notify=True) -> None:
    key = {
        "marketplace": adapter.name,
        "external_order_id": update.external_id,
        "payload_hash": update.payload_hash,
    }
    existing = MarketplaceOrderUpdate.objects.filter(**key).first()
    if existing is not None and existing.outcome != Outcome.FAILED:
        summary.ignored += 1
        summary.duplicates += 1
        summary._seen(update.sequence)
        return
    try:
        with transaction.atomic():
            result = apply_update(adapter, update, notify=notify)
            row = existing or MarketplaceOrderUpdate(**key)
            if existing is not None:
                row.attempts += 1
            row.status = update.status[:64]
            row.sequence = update.sequence
            row.target_state = result.target or ""
            row.outcome = result.outcome
            row.reason = "; ".join([result.reason, *update.warnings])
            row.transitions = result.transitions
            row.details = update.details()
            row.problem = result.problem
            row.run = summary.run
            if result.order is not None:
                row.content_type = ContentType.objects.get_for_model(result.order)
                row.object_id = str(result.order.pk)
            row.save()
    except IntegrityError as exc:
        if existing is None and MarketplaceOrderUpdate.objects.filter(**key).exists():
            # Another sync recorded the same item while this one worked on it.
            summary.ignored += 1
            summary.duplicates += 1
            return
        _failed(adapter, update, summary, exc)
        return
    except Exception as exc:  # noqa: BLE001 - recorded as failed with the reason; the batch goes on
        _failed(adapter, update, summary, exc)
        return
    summary._seen(update.sequence)
    if result.outcome == Outcome.APPLIED:
        summary.applied += 1
    else:
        summary.ignored += 1
        summary.stale += result.problem == Problem.STALE


def _failed(adapter, update: MarketplaceUpdate, summary: SyncSummary, exc: Exception) -> None:
    if not isinstance(exc, (UpdateConflictError, MalformedUpdateError)):
        logger.exception("%s order %s: update %s failed", adapter.name, update.external_id, update.status)
    _record_failure(
        adapter,
        summary,
        update.payload_hash,
        _describe(exc),
        external_id=update.external_id,
        status=update.status,
        sequence=update.sequence,
        details=update.details(),
        problem=Problem.MALFORMED if isinstance(exc, MalformedUpdateError) else Problem.CONFLICT,
    )


def _describe(exc) -> str:
    if isinstance(exc, (UpdateConflictError, MalformedUpdateError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _record_failure(
    adapter: BaseAdapter,
    summary: SyncSummary,
    digest: str,
    reason: str,
    *,
    external_id: str = "",
    status: str = "",
    sequence: datetime | None = None,
    details: dict | None = None,
    problem: str = Problem.CONFLICT,
) -> None:
    """Write (or bump) the failed row, in its own transaction."""
    summary.failed += 1
    summary.malformed += problem == Problem.MALFORMED
    if len(summary.problems) < 200:
        summary.problems.append(f"{external_id or '?'}: {reason}")
    logger.warning("%s order %s: %s", adapter.name, external_id or "?", reason)
    with transaction.atomic():
        row, created = MarketplaceOrderUpdate.objects.select_for_update().get_or_create(
            marketplace=adapter.name,
            external_order_id=external_id[:64],
            payload_hash=digest,
            defaults={
                "status": status[:64],
                "sequence": sequence,
                "outcome": Outcome.FAILED,
                "reason": reason,
                "details": details or {},
                "problem": problem,
                "run": summary.run,
            },
        )
        if not created and row.outcome == Outcome.FAILED:
            row.attempts += 1
            row.reason = reason
            row.problem = problem
            row.run = summary.run
            row.save(update_fields=["attempts", "reason", "problem", "run", "updated_at"])


def _advance_cursor(marketplace: str, summary: SyncSummary) -> None:
    with transaction.atomic():
        cursor, _ = MarketplaceSyncCursor.objects.select_for_update().get_or_create(marketplace=marketplace)
        if summary.newest and (cursor.last_sequence is None or summary.newest > cursor.last_sequence):
            cursor.last_sequence = summary.newest
        cursor.last_run_at = timezone.now()
        cursor.last_summary = summary.as_dict()
        cursor.save()


def run_sync(
    marketplace: str,
    *,
    files: Iterable[str] = (),
    source: str | None = None,
    since: datetime | None = None,
    notify: bool = True,
) -> SyncSummary:
    """Sync ``marketplace`` from feed files or from the page source ``source``
    (dotted path). ``since`` defaults to the marketplace's cursor."""
    files = list(files)
    if bool(files) == bool(source):
        raise FeedError("give either feed files or a page source, not both or neither")
    adapter = get_adapter(marketplace)
    adapter.check_configured()
    pages: Iterable
    if files:
        described = ", ".join(Path(f).name for f in files)
        # Read every file first: a missing or broken file stops the run before
        # anything is applied (and is logged as a run that read nothing).
        try:
            pages = chain.from_iterable([pages_from_file(f) for f in files])
        except FeedError as exc:
            summary = SyncSummary(adapter.name, run=start_run(adapter.name, described), source_error=str(exc))
            finish_run(summary)
            raise
    else:
        assert source  # exactly one of the two was given (checked above)
        described = source
        if since is None:
            cursor = MarketplaceSyncCursor.objects.filter(marketplace=adapter.name).first()
            since = cursor.last_sequence if cursor else None
        pages = pages_from_source(source, since=since)
    return sync_pages(adapter, pages, notify=notify, source=described)
