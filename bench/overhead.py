"""Transition overhead: ``confirm_payment()`` + ``save()`` in one transaction,
with ``ORDER_MAIL["ENABLED"]`` True (the outbox row is written and published
to Redis after commit) against False (the same transition, no email).

Blocks of each mode alternate so drift (autovacuum, other load) hits both
alike; the figure is the ratio of the medians. The breakdown times the
parts of the difference on their own, each in a transaction that is rolled
back: the ``INSERT ... RETURNING`` statement alone (the floor of any
outbox: the row must be written in the order's transaction), all of
``enqueue()`` (building the row, the hooks, the insert), the on-commit
hand-off to the background publisher, and — paid by the publisher thread,
not the request — publishing to Redis.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from .common import confirm, mail_enabled, make_orders


def _timed(orders, enabled: bool) -> list[float]:
    times = []
    with mail_enabled(enabled):
        for order in orders:
            start = time.perf_counter()
            confirm(order)
            times.append(time.perf_counter() - start)
    return times


def _queries(order, enabled: bool) -> list[str]:
    with mail_enabled(enabled), CaptureQueriesContext(connection) as captured:
        confirm(order)
    return [q["sql"] for q in captured.captured_queries]


def _breakdown(orders) -> dict:
    """Median ms of each part of the difference, timed alone."""
    from django.db import router

    from django_order_mail.outbox.enqueue import PendingMail, enqueue, hand_off, publish
    from django_order_mail.outbox.insert import insert_returning
    from django_order_mail.outbox.publisher import publisher

    times: dict[str, list[float]] = {"insert_ms": [], "enqueue_ms": [], "handoff_ms": [], "publish_ms": []}
    using = router.db_for_write(type(orders[0]))
    for order in orders:
        with transaction.atomic():
            [row] = enqueue(order, [PendingMail("order_confirmation")])
            row.pk, row.idempotency_key = None, row.idempotency_key + ":again"
            start = time.perf_counter()
            insert_returning([row], using)
            times["insert_ms"].append(time.perf_counter() - start)
            transaction.set_rollback(True)
        with transaction.atomic():
            start = time.perf_counter()
            enqueue(order, [PendingMail("order_confirmation", discriminator="x")])
            times["enqueue_ms"].append(time.perf_counter() - start)
            transaction.set_rollback(True)
        start = time.perf_counter()
        hand_off([row.pk or 0])
        times["handoff_ms"].append(time.perf_counter() - start)
        start = time.perf_counter()
        publish([row.pk or 0])
        times["publish_ms"].append(time.perf_counter() - start)
    publisher.flush(10)
    return {key: statistics.median(values) * 1000 for key, values in times.items()}


def run(n: int, redis, log) -> dict:
    from django_order_mail.outbox.models import OutboxEmail

    blocks = 10
    per_block = max(1, n // (2 * blocks))
    orders = make_orders("OV", 2 * blocks * per_block + 60)
    warm, rest = orders[:40], orders[40:]
    _timed(warm[:20], True)
    _timed(warm[20:], False)
    off: list[float] = []
    on: list[float] = []
    for b in range(blocks):
        chunk = rest[2 * b * per_block : (2 * b + 2) * per_block]
        first, second = chunk[:per_block], chunk[per_block:]
        if b % 2:
            on += _timed(first, True)
            off += _timed(second, False)
        else:
            off += _timed(first, False)
            on += _timed(second, True)
    queries_on = _queries(rest[-2], True)
    queries_off = _queries(rest[-1], False)

    breakdown = _breakdown(make_orders("OB", 300))
    redis.flush()  # nobody consumes these messages
    OutboxEmail.objects.all().delete()

    med_on, med_off = statistics.median(on), statistics.median(off)
    result = {
        "n_each": len(on),
        "enabled_ms": med_on * 1000,
        "disabled_ms": med_off * 1000,
        "ratio": med_on / med_off,
        "extra_ms": (med_on - med_off) * 1000,
        "enabled_mean_ms": statistics.fmean(on) * 1000,
        "disabled_mean_ms": statistics.fmean(off) * 1000,
        "queries_enabled": len(queries_on),
        "queries_disabled": len(queries_off),
        "sql_enabled": [q[:120] for q in queries_on],
        **breakdown,
    }
    log(
        f"  enabled {result['enabled_ms']:.2f} ms, disabled {result['disabled_ms']:.2f} ms, "
        f"ratio {result['ratio']:.2f}x ({result['queries_enabled']} vs {result['queries_disabled']} queries)"
    )
    return result
