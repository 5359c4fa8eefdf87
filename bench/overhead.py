"""Transition overhead: ``confirm_payment()`` + ``save()`` in one transaction,
with ``ORDER_MAIL["ENABLED"]`` True (the outbox row is written and published
to Redis after commit) against False (the same transition, no email).

Blocks of each mode alternate so drift (autovacuum, other load) hits both
alike; the figure is the ratio of the medians. The breakdown times the two
extra steps on their own: publishing one id to Redis (``publish()``) and the
read-back ``SELECT`` that ``enqueue()`` does after its ``INSERT ... ON
CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection
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


def run(n: int, redis, log) -> dict:
    from django_order_mail.outbox.enqueue import publish
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

    # The two extra round trips, alone.
    rows = list(OutboxEmail.objects.values_list("pk", "idempotency_key", "claim_token")[:300])
    publish_times, readback_times = [], []
    for pk, key, token in rows:
        start = time.perf_counter()
        publish([pk])
        publish_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        list(OutboxEmail.objects.filter(idempotency_key__in=[key], claim_token=token))
        readback_times.append(time.perf_counter() - start)
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
        "publish_ms": statistics.median(publish_times) * 1000,
        "readback_ms": statistics.median(readback_times) * 1000,
    }
    log(
        f"  enabled {result['enabled_ms']:.2f} ms, disabled {result['disabled_ms']:.2f} ms, "
        f"ratio {result['ratio']:.2f}x ({result['queries_enabled']} vs {result['queries_disabled']} queries)"
    )
    return result
