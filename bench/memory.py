"""Worker memory over many sends: the RSS of each celery pool process.

N queued rows (pointing at a pool of real orders, so every send renders a
real email) are published to Redis a chunk ahead of the worker, which sends
them to the fast fake ESP. Every two seconds the RSS of the worker's main
process and of each pool process is read from ``/proc``. Flat means: after
warm-up (the first 10 % of sends) the pool processes grow by less than a few
MiB, with no steady slope.
"""

from __future__ import annotations

import threading
import time

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from .common import make_orders
from .services import Worker, rss_kib, wait_until


def _insert_rows(n: int, orders) -> list[int]:
    from django_order_mail.outbox.models import OutboxEmail, Status

    ct = ContentType.objects.get_for_model(orders[0])
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, n, 5000):
        rows = [
            OutboxEmail(
                idempotency_key=f"bench-memory:{i}",
                event="order_confirmation",
                status=Status.QUEUED,
                content_type=ct,
                object_id=str(orders[i % len(orders)].pk),
                reference=orders[i % len(orders)].number,
                channel="web",
                language="en",
                recipient=orders[i % len(orders)].email,
                enqueued_at=now,
                created_at=now,
            )
            for i in range(start, min(n, start + 5000))
        ]
        ids.extend(r.pk for r in OutboxEmail.objects.bulk_create(rows))
    return ids


def _slope_mib_per_10k(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS (MiB) against sends, per 10,000 sends."""
    if len(points) < 3:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if not var:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 10_000


def run(n: int, esp, concurrency: int, log) -> dict:
    from django_order_mail.outbox.enqueue import publish
    from django_order_mail.outbox.models import OutboxEmail

    OutboxEmail.objects.all().delete()
    orders = make_orders("MEM", min(n, 2000))
    ids = _insert_rows(n, orders)
    esp.reset()
    worker = Worker(concurrency, name="memory")
    worker.start()
    samples: list[dict] = []
    stop = threading.Event()

    def feed():  # keep the broker a few thousand messages ahead of the worker
        sent = 0
        for start in range(0, len(ids), 1000):
            while start - sent > 4000 and not stop.is_set():
                time.sleep(0.5)
                sent = esp.accepted()
            if stop.is_set():
                return
            publish(ids[start : start + 1000])

    feeder = threading.Thread(target=feed, daemon=True)
    started = time.time()
    feeder.start()
    try:
        while True:
            accepted = esp.accepted()
            pool = worker.pool_pids()
            samples.append(
                {
                    "t": time.time() - started,
                    "sent": accepted,
                    "main_mib": rss_kib(worker.proc.pid) / 1024,
                    "pool_mib": {pid: rss_kib(pid) / 1024 for pid in pool},
                }
            )
            if accepted >= n:
                break
            if time.time() - started > max(600, n / 10):
                raise TimeoutError(f"memory run stalled at {accepted}/{n}:\n{worker.log()}")
            time.sleep(2)
        wait_until(lambda: esp.accepted() >= n, timeout=30, what="last sends")
        stats = esp.stats()
    finally:
        stop.set()
        worker.stop()
    OutboxEmail.objects.all().delete()
    result = summarize(n, samples, time.time() - started, log)
    # Keep-alive over a long run: TCP connections the ESP saw, per email and per sending thread.
    from django_order_mail.app_settings import app_settings

    result.update(
        connections=stats["connections"],
        requests=stats["requests"],
        threads_per_process=app_settings.DELIVERY_CONCURRENCY,
    )
    log(
        f"  {stats['connections']} TCP connections for {n} emails "
        f"({stats['connections'] / n * 1000:.2f} per 1,000)"
    )
    return result


def summarize(n: int, samples: list[dict], seconds: float, log) -> dict:
    pids = sorted({pid for s in samples for pid in s["pool_mib"]})
    warm = [s for s in samples if s["sent"] >= n * 0.1]
    per_pid = {}
    for pid in pids:
        points = [(s["sent"], s["pool_mib"][pid]) for s in warm if s["pool_mib"].get(pid)]
        if not points:
            continue
        per_pid[pid] = {
            "after_warmup_mib": points[0][1],
            "end_mib": points[-1][1],
            "peak_mib": max(p[1] for p in points),
            "growth_mib": points[-1][1] - points[0][1],
            "slope_mib_per_10k": _slope_mib_per_10k(points),
        }
    table = []
    for decile in range(0, 11):
        target = n * decile / 10
        sample = min(samples, key=lambda s, t=target: abs(s["sent"] - t))
        table.append(
            {
                "sent": sample["sent"],
                "main_mib": sample["main_mib"],
                "pool_mib": sorted(sample["pool_mib"].values()),
            }
        )
    growth = max((p["growth_mib"] for p in per_pid.values()), default=0.0)
    slope = max((p["slope_mib_per_10k"] for p in per_pid.values()), default=0.0)
    # A leak grows steadily: compare the second half of the run with its middle.
    middle = min(samples, key=lambda s: abs(s["sent"] - n / 2))
    last = samples[-1]
    second_half = max(
        (
            last["pool_mib"].get(pid, 0) - middle["pool_mib"][pid]
            for pid in middle["pool_mib"]
            if pid in last["pool_mib"]
        ),
        default=0.0,
    )
    result = {
        "n": n,
        "seconds": seconds,
        "rate": n / seconds if seconds else 0.0,
        "pool_processes": len(pids),
        "per_process": per_pid,
        "table": table,
        "max_growth_mib": growth,
        "max_slope_mib_per_10k": slope,
        "second_half_growth_mib": second_half,
        "flat": growth < 5.0 and second_half < 2.0,
    }
    log(
        f"  {n} sends in {seconds:.0f}s; pool RSS growth after warm-up {growth:+.1f} MiB "
        f"({second_half:+.1f} MiB in the second half): {'flat' if result['flat'] else 'GROWING'}"
    )
    return result
