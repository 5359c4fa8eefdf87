"""Where one email's time goes, and the hot-path profiles.

``deliver_batch(ids)`` (what the ``send_emails`` task runs) goes through
batches of ``DELIVERY_BATCH_SIZE`` rows in this process against the fast fake
ESP, with timers wrapped around its stages (claim, batch prefetch, render:
context / templates / css-inline, message, send, record); each stage's total
is divided by the number of emails. The wrappers replace module
attributes for the duration of the measurement only; the code measured is the
package's own. ``cProfile`` then profiles the same path (and the transition
path) and writes the top functions to ``bench/results/``.
"""

from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import time
from collections import defaultdict
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

from .common import confirm, make_orders

RESULTS = Path(__file__).resolve().parent / "results"


@contextlib.contextmanager
def _instrument(timings: dict):
    """Wrap the stages of the send path with timers (restored afterwards)."""
    from anymail.backends.base import AnymailBaseBackend

    from django_order_mail.delivery import flow, outcome, preparation
    from django_order_mail.rendering import render

    # Each name is patched where the send path looks it up.
    targets = [
        (flow, "claim_many", "claim (UPDATE + SELECT, per batch)"),
        (flow, "_prefetch", "batch prefetch (orders, lines, shipments, suppressions)"),
        (preparation, "render_outbox_email", "render"),
        (render, "build_context", "render: context (order hooks, queries)"),
        (render, "render_parts", "render: templates"),
        (render, "inline_css", "render: css-inline"),
        (preparation, "build_message", "build message"),
        (AnymailBaseBackend, "send_messages", "send (Anymail + HTTP to the ESP)"),
        (outcome, "_finish", "record (UPDATE + log INSERT, one commit)"),
    ]
    saved = []
    for owner, name, label in targets:
        original = owner.__dict__.get(name)
        if original is None:
            continue  # the code moved on; this stage is not timed

        def timed(*args, _original=original, _label=label, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                timings[_label].append(time.perf_counter() - start)

        saved.append((owner, name, original))
        setattr(owner, name, timed)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _queued_rows(prefix: str, n: int) -> list[int]:
    from django_order_mail.outbox.models import OutboxEmail

    for order in make_orders(prefix, n):
        confirm(order)
    return list(
        OutboxEmail.objects.filter(reference__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


def _profile(fn, items, path: Path, title: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for item in items:
        fn(item)
    profiler.disable()
    out = io.StringIO()
    out.write(f"{title}\n{'=' * len(title)}\n\nSorted by cumulative time:\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(45)
    out.write("\nSorted by own time:\n")
    stats.sort_stats("tottime").print_stats(25)
    path.write_text(out.getvalue())


def _batches(ids: list[int]) -> list[list[int]]:
    from django_order_mail.conf import get_setting

    size = get_setting("DELIVERY_BATCH_SIZE")
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def run(n: int, redis, log) -> dict:
    """Per-email stages with one sending thread (``DELIVERY_CONCURRENCY`` 1):
    the timers, the captured queries and the profile see this thread only."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(ORDER_MAIL={**settings.ORDER_MAIL, "DELIVERY_CONCURRENCY": 1}):
        return _run(n, redis, log)


def _run(n: int, redis, log) -> dict:
    from django_order_mail.delivery.sender import deliver_batch
    from django_order_mail.outbox.models import OutboxEmail

    ids = _queued_rows("RC", n + 20)
    redis.flush()  # no worker runs: the in-process calls deliver these rows
    deliver_batch(ids[:20])  # warm-up: template cache, connections
    timings: dict = defaultdict(list)
    elapsed = 0.0
    with _instrument(timings):
        for batch in _batches(ids[20:]):
            start = time.perf_counter()
            outcomes = deliver_batch(batch)
            elapsed += time.perf_counter() - start
            assert set(outcomes.values()) == {"sent"}, outcomes
    emails = len(ids) - 20
    total = elapsed / emails
    stages = {label: sum(values) / emails for label, values in timings.items()}
    named = sum(v for k, v in stages.items() if not k.startswith("render:"))
    stages["other (checks, suppression, A/B, bookkeeping)"] = max(0.0, total - named)

    # Queries of one email, and the profiles.
    extra = _queued_rows("RQ", 2 * min(n, 300) + 1)
    redis.flush()
    first, rest = _batches(extra[1:])[0], extra[1:]
    with CaptureQueriesContext(connection) as captured:
        deliver_batch(first)
    RESULTS.mkdir(exist_ok=True)
    rest = rest[len(first) :]
    _profile(
        deliver_batch,
        _batches(rest),
        RESULTS / "profile_deliver.txt",
        f"deliver_batch() of {len(rest)} emails",
    )
    orders = make_orders("RT", min(n, 300))
    _profile(
        confirm, orders, RESULTS / "profile_transition.txt", f"confirm_payment() + save() x {len(orders)}"
    )
    redis.flush()
    OutboxEmail.objects.all().delete()

    render_ms = stages.get("render", 0.0) * 1000
    result = {
        "n": emails,
        "batch_size": len(first),
        "total_ms": total * 1000,
        "stages_ms": {k: v * 1000 for k, v in stages.items()},
        "render_ms": render_ms,
        "render_share": render_ms / (total * 1000) if total else 0.0,
        "queries_per_email": len(captured.captured_queries) / len(first),
        "sql": [q["sql"][:120] for q in captured.captured_queries],
    }
    log(
        f"  {result['total_ms']:.1f} ms per email in one process; render {render_ms:.1f} ms "
        f"({result['render_share']:.0%}); {result['queries_per_email']:.1f} queries"
    )
    return result
