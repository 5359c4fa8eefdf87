"""What the hand-written machinery buys: each piece on against off, in one run.

Four pieces of the hot path do by hand what Django or a dependency would do
through its public API. Each is timed here both ways, in alternating blocks
(so drift hits both alike), on PostgreSQL; the figure is the ratio of the
medians per operation.

* **outbox insert** (:mod:`django_order_mail.outbox.insert`): the single-row
  ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` compiled once per
  connection and reused, against Django's ``InsertQuery`` compiling it for
  every row (the module's own switch: ``_single_row_sql[alias] = None``),
  and against ``bulk_create(ignore_conflicts=True)`` plus the read-back
  ``SELECT`` (what :func:`~django_order_mail.outbox.enqueue.enqueue` does on
  other databases). One row per call, in a transaction rolled back after.
* **outcome record** (:mod:`django_order_mail.delivery.record`): one
  ``WITH updated AS (UPDATE ...) INSERT`` statement built from Django's
  compiled ``UpdateQuery``, against ``QuerySet.update()`` and
  ``EmailLog.objects.create()`` in ``transaction.atomic`` (the module's
  switch ``ONE_STATEMENT_ON_POSTGRESQL``). One committed record per call.
* **block renderer** (:mod:`django_order_mail.rendering.blocks`): the
  subject, plain and html blocks of the order confirmation with the block
  map cached per template, against django-render-block's
  ``django_render_block`` (a walk of the template tree per block), both
  through :func:`~django_order_mail.rendering.render.render_parts`.
* **batch memo** (:mod:`django_order_mail.memo`): ``deliver_batch()`` of 20
  emails with the memo, against the same with ``SHARE_IN_BATCH = False``
  (each email looks up its template, shipments, A/B tests and suppression
  entries itself). Anymail's test backend stands in for the ESP, so the
  figure is the batch's own work.

    .venv/bin/python -m bench.machinery     # alone: its own database, about a minute
    bash bench/run.sh --skip ...            # or as the "machinery" section of the full run

Alone, it writes ``bench/results/machinery.json`` and replaces only its own
section of ``docs/performance.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "bench" / "results" / "machinery.json"
BLOCKS = 10  # alternating blocks per piece; each mode runs once per block


def _alternate(
    modes: dict[str, Callable[[int], list[float]]], per_block: int, warm: int = 10
) -> dict[str, list[float]]:
    """Run each mode ``warm`` times (not counted), then ``per_block`` times
    per block, the modes' order rotating from block to block; per-operation
    seconds of each mode."""
    names = list(modes)
    times: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # warm-up: caches, connections, code paths
        modes[name](warm)
    for b in range(BLOCKS):
        shift = b % len(names)
        for name in names[shift:] + names[:shift]:
            times[name] += modes[name](per_block)
    return times


def _figures(times: dict[str, list[float]], base: str) -> dict:
    """Median and mean ms per mode, each mode's median over ``base``'s, and
    that ratio within each alternating block (how steady it was)."""
    out = {}
    for name, values in times.items():
        median = statistics.median(values)
        per_block = len(values) // BLOCKS
        out[name] = {
            "n": len(values),
            "median_ms": median * 1000,
            "mean_ms": statistics.fmean(values) * 1000,
            "vs_on": median / statistics.median(times[base]),
            "vs_on_per_block": [
                statistics.median(values[b * per_block : (b + 1) * per_block])
                / statistics.median(times[base][b * per_block : (b + 1) * per_block])
                for b in range(BLOCKS)
            ],
        }
    return out


# --- a. the outbox insert ----------------------------------------------------


def _outbox_row(order, content_type, key: str, batch: uuid.UUID):
    """An outbox row as ``enqueue()`` builds it for an order confirmation."""
    from django.utils import timezone

    from django_order_mail.outbox.models import OutboxEmail, Status

    now = timezone.now()
    return OutboxEmail(
        idempotency_key=key,
        event="order_confirmation",
        status=Status.QUEUED,
        content_type=content_type,
        object_id=str(order.pk),
        reference=order.number,
        channel="web",
        language="en",
        recipient=order.email,
        extra={},
        enqueued_at=now,
        created_at=now,
        claim_token=batch,
    )


@contextlib.contextmanager
def _insert_mode(mode: str, using: str):
    from django_order_mail.outbox import enqueue, insert

    saved_sql = insert._single_row_sql.get(using)
    saved_supports = enqueue.supports_returning
    if mode == "per_row":
        insert._single_row_sql[using] = None  # the module's "fast path off"
    elif mode == "bulk_create":
        enqueue.supports_returning = lambda using: False  # type: ignore[assignment]
    try:
        yield
    finally:
        enqueue.supports_returning = saved_supports
        if saved_sql is None:
            insert._single_row_sql.pop(using, None)
        else:
            insert._single_row_sql[using] = saved_sql


def _insert(log) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.db import router, transaction

    from django_order_mail.outbox.enqueue import _insert_new
    from django_order_mail.outbox.models import OutboxEmail

    from .common import make_orders

    [order] = make_orders("MI", 1)
    content_type = ContentType.objects.get_for_model(order)
    using = router.db_for_write(OutboxEmail)
    counter = iter(range(10**9))

    def mode(name: str) -> Callable[[int], list[float]]:
        def run(n: int) -> list[float]:
            times = []
            with _insert_mode(name, using):
                for _ in range(n):
                    batch = uuid.uuid4()
                    row = _outbox_row(order, content_type, f"bench-insert-{next(counter)}", batch)
                    with transaction.atomic():
                        start = time.perf_counter()
                        created = _insert_new([row], batch)
                        times.append(time.perf_counter() - start)
                        transaction.set_rollback(True)
                    assert len(created) == 1 and created[0].pk, name
            return times

        return run

    names = ("on", "per_row", "bulk_create")
    times = _alternate({name: mode(name) for name in names}, per_block=300)
    result = _figures(times, "on")
    log("  outbox insert: " + ", ".join(f"{k} {v['median_ms']:.3f} ms" for k, v in result.items()))
    return result


# --- b. the outcome record ---------------------------------------------------


def _claimed_rows(prefix: str, n: int) -> list:
    """``n`` outbox rows in ``sending`` with a claim token, as a worker holds them."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from django_order_mail.outbox.models import OutboxEmail, Status

    from .common import make_orders

    [order] = make_orders(prefix, 1)
    content_type = ContentType.objects.get_for_model(order)
    rows = []
    for i in range(n):
        row = _outbox_row(order, content_type, f"bench-{prefix}-{i}", uuid.uuid4())
        row.status, row.claimed_at, row.attempts = Status.SENDING, timezone.now(), 1
        rows.append(row)
    return OutboxEmail.objects.bulk_create(rows, batch_size=1000)


def _record(body: dict, log) -> dict:
    from django.utils import timezone

    from django_order_mail.delivery import record
    from django_order_mail.outbox.models import Status

    per_block, warm = 150, 10
    rows = iter(_claimed_rows("MR", 2 * (BLOCKS * per_block + warm)))

    def mode(one_statement: bool) -> Callable[[int], list[float]]:
        def run(n: int) -> list[float]:
            times = []
            saved, record.ONE_STATEMENT_ON_POSTGRESQL = record.ONE_STATEMENT_ON_POSTGRESQL, one_statement
            try:
                for _ in range(n):
                    row = next(rows)
                    values = {  # what the sender records for a sent email
                        "status": Status.SENT,
                        "updated_at": timezone.now(),
                        "sent_at": timezone.now(),
                        "esp_message_id": f"bench-{row.pk}",
                        "recipient": row.recipient,
                        "subject": body["subject"][:998],
                        "body_text": body["plain"],
                        "body_html": body["html"],
                        "last_error": "",
                    }
                    start = time.perf_counter()
                    done = record.record_outcome(
                        row,
                        (Status.SENDING, Status.QUEUED),
                        status=Status.SENT,
                        message="accepted",
                        values=values,
                    )
                    times.append(time.perf_counter() - start)
                    assert done
            finally:
                record.ONE_STATEMENT_ON_POSTGRESQL = saved
            return times

        return run

    times = _alternate({"on": mode(True), "off": mode(False)}, per_block, warm)
    result = _figures(times, "on")
    log("  outcome record: " + ", ".join(f"{k} {v['median_ms']:.3f} ms" for k, v in result.items()))
    return result


# --- c. the block renderer ---------------------------------------------------


def _blocks(log) -> tuple[dict, dict]:
    from django.template.loader import select_template
    from render_block.django import django_render_block

    from django_order_mail.rendering import blocks, render
    from django_order_mail.rendering.context import build_context

    from .common import make_orders

    [order] = make_orders("MB", 1)
    context = build_context(order, "order_confirmation")
    # What the email backend selects for a web order's confirmation.
    names = render.template_names("order_confirmation", "web")
    template = select_template([f"{render.TEMPLATE_DIR}{name}.email" for name in names])
    renderers = {"on": blocks.render_block, "off": django_render_block}
    outputs = {}

    def mode(name: str) -> Callable[[int], list[float]]:
        def run(n: int) -> list[float]:
            times = []
            saved, render.render_block = render.render_block, renderers[name]
            try:
                for _ in range(n):
                    start = time.perf_counter()
                    parts = render.render_parts(template, context)
                    times.append(time.perf_counter() - start)
            finally:
                render.render_block = saved
            outputs[name] = parts
            return times

        return run

    times = _alternate({name: mode(name) for name in renderers}, per_block=150)
    first, second = outputs.values()
    assert first == second, "the two renderers disagree"
    result = _figures(times, "on")
    result["template"] = template.origin.template_name
    result["html_chars"] = len(first["html"])
    log(
        "  block renderer: "
        + ", ".join(f"{k} {v['median_ms']:.3f} ms" for k, v in result.items() if isinstance(v, dict))
    )
    return result, first


# --- d. the batch memo -------------------------------------------------------


def _queued(prefix: str, n: int) -> list[int]:
    """Order confirmations queued for ``n`` fresh orders (nothing published)."""
    from django_order_mail.outbox import enqueue
    from django_order_mail.outbox.models import OutboxEmail

    from .common import confirm, make_orders

    saved, enqueue.publish = enqueue.publish, lambda ids, countdown=None: len(ids)
    try:
        for order in make_orders(prefix, n):
            confirm(order)
    finally:
        enqueue.publish = saved
    return list(
        OutboxEmail.objects.filter(reference__startswith=prefix, status="queued")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _memo(log) -> dict:
    from django.core import mail
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from django_order_mail import memo
    from django_order_mail.conf import get_setting
    from django_order_mail.delivery import sender

    size = get_setting("DELIVERY_BATCH_SIZE")
    per_block, warm = 4, 1  # batches
    ids = _queued(
        "MM", size * 2 * (BLOCKS * per_block + warm + 1)
    )  # + 1: the batch whose queries are counted
    batches = iter([ids[i : i + size] for i in range(0, len(ids), size)])
    queries: dict[str, float] = {}

    def mode(name: str, share: bool) -> Callable[[int], list[float]]:
        def run(n: int) -> list[float]:
            times = []
            saved, memo.SHARE_IN_BATCH = memo.SHARE_IN_BATCH, share
            try:
                for _ in range(n):
                    batch = next(batches)
                    mail.outbox = []
                    start = time.perf_counter()
                    outcomes = sender.deliver_batch(batch)
                    times.append((time.perf_counter() - start) / len(batch))
                    assert set(outcomes.values()) == {"sent"}, outcomes
                if name not in queries:
                    with CaptureQueriesContext(connection) as captured:
                        sender.deliver_batch(next(batches))
                    queries[name] = len(captured.captured_queries) / size
            finally:
                memo.SHARE_IN_BATCH = saved
            return times

        return run

    names = ("on", "off")
    with override_settings(EMAIL_BACKEND="anymail.backends.test.EmailBackend"):
        sender.reset_connection()
        try:
            times = _alternate(
                {names[0]: mode(names[0], True), names[1]: mode(names[1], False)}, per_block, warm
            )
        finally:
            sender.reset_connection()
    result = _figures(times, "on")
    for name in names:
        result[name]["queries_per_email"] = queries[name]
    result["batch_size"] = size
    log(
        "  batch memo: "
        + ", ".join(f"{k} {v['median_ms']:.3f} ms/email" for k, v in result.items() if isinstance(v, dict))
    )
    return result


def run(log) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings

    from bench import machine
    from django_order_mail.outbox.models import OutboxEmail

    assert connection.vendor == "postgresql", "the machinery bench measures PostgreSQL"
    info = machine.describe()
    started = time.time()
    # Nothing here is published (no worker would take it): no broker needed.
    # One sending thread: each piece is timed, and its queries counted, in this thread.
    pinned = {**settings.ORDER_MAIL, "PUBLISH_IN_BACKGROUND": False, "DELIVERY_CONCURRENCY": 1}
    with override_settings(ORDER_MAIL=pinned):
        blocks, parts = _blocks(log)
        result = {"insert": _insert(log), "record": _record(parts, log), "blocks": blocks, "memo": _memo(log)}
    OutboxEmail.objects.all().delete()
    result.update(
        date=time.strftime("%Y-%m-%d"),
        seconds=time.time() - started,
        alternating_blocks=BLOCKS,
        machine={key: info[key] for key in ("nproc", "cpu", "memory_gib", "kernel", "python", "postgres")}
        | {"django": info["packages"]["django"]},
        idle_before=info["idle_before"],
        idle_during=machine.idle_since(info),
    )
    return result


def save(result: dict) -> None:
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=1))


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("BENCH_DB_NAME", "bench_order_mail_machinery")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    from bench.services import recreate_database

    recreate_database(os.environ["BENCH_DB_NAME"])
    import django

    django.setup()
    from bench import report

    result = run(lambda message: print(message, flush=True))
    save(result)
    report.splice_machinery(result, ROOT / "docs" / "performance.md")
    print(f"Wrote {RESULT.relative_to(ROOT)} and its section of docs/performance.md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
