"""Growth: the send log at 10,000,000 rows, and retention next to a send burst.

Not part of the test run, nor of ``bench/run.sh`` (it needs an hour and
tens of gigabytes). From the repository root, with PostgreSQL on
127.0.0.1:5432 (trust auth, user ``postgres``) and redis-server::

    flock /tmp/bench.lock .venv/bin/python -m bench.growth
    flock /tmp/bench.lock .venv/bin/python -m bench.growth --rows 1000000 --pairs 2   # a rehearsal

1. A database of its own (``bench_growth``, dropped at the end unless
   ``--keep``) built by the real migrations, filled with ``--rows`` send-log
   rows over ``--years`` (``bench/growth_fill.py``).
2. The send-log admin pages (list, filters, searches, the change page),
   each requested ``--repeat`` times with Django's test client as a
   superuser: median and slowest time, SQL statements.
3. Send bursts on the real send path - this process transitions ``--burst``
   orders (one ``order_confirmation`` each) as a web process does, a
   ``celery worker`` (prefork, one process per CPU) sends them through
   Anymail's Postmark backend to ``bench/fast_esp.py`` answering after
   ``--latency`` ms - alternately without and with the real
   ``manage.py order_mail_retention`` running in another process: first its
   body-stripping part, then its deletions. Each burst *with* is compared
   with the mean of the bursts *without* just before and after it; a part
   whose retention changed nothing during a burst is not judged.
4. After each part's bursts, that part alone for ``--budget`` seconds (and
   half as long flat out): rows per second.
5. ``VACUUM ANALYZE`` (this server runs without autovacuum) and the admin
   pages again, on the smaller log.

Figures go to ``bench/results/growth.json`` and the *Growth* section of
``docs/performance.md`` (``bench/growth_report.py``; only that section is
replaced).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from bench.common import confirm, make_orders, summary  # noqa: E402
from bench.growth_parts import (  # noqa: E402
    SETTINGS,
    Retention,
    changed,
    growth_env,
    log,
    measure_admin,
    progress,
    retention_alone,
    sql,
)
from bench.services import (  # noqa: E402
    ESP,
    PY,
    Redis,
    Worker,
    ensure_database,
    free_port,
    postgres_cpu_seconds,
    self_cpu_seconds,
    tree_cpu_seconds,
    wait_until,
)

DB_NAME = os.environ.get("BENCH_GROWTH_DB", "bench_growth")
RESULTS = ROOT / "bench" / "results" / "growth.json"
#: Free space the database needs at 10,000,000 rows, with margin.
NEED_GIB = 40


# -- send bursts ----------------------------------------------------------------

_bursts = itertools.count(1)


def burst(n: int, esp, worker, retention: Retention | None = None) -> dict:
    """``n`` orders confirmed one after another as a web process does; the
    worker sends each email to the fake ESP. Emails/s from the first commit
    to the last acceptance."""
    from django.db import connection

    from django_order_mail.outbox.models import OutboxEmail, Status
    from django_order_mail.outbox.publisher import publisher

    orders = make_orders(f"G{next(_bursts):04d}-", n)
    last_id = OutboxEmail.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    connection.close()  # a fresh connection, as a web process has
    esp.reset()
    stamps: dict = {}

    def meter() -> dict:
        return {
            "producer": self_cpu_seconds(),
            "worker": tree_cpu_seconds(worker.proc.pid),
            "postgres": postgres_cpu_seconds(),
            "esp": esp.stats()["cpu_seconds"],
            "machine": machine.busy_cpu_seconds(),
            **({f"retention_{k}": v for k, v in retention.cpu().items()} if retention else {}),
        }

    before = meter()
    for order in orders:
        confirm(order, stamps)
    publisher.flush(30)
    try:
        wait_until(lambda: esp.accepted() >= n, timeout=120 + n / 5, interval=0.1, what="burst at the ESP")
    except TimeoutError:
        log(f"{esp.accepted()} of {n} at the ESP; the worker's log:\n{worker.log()}")
        raise
    wait_until(
        lambda: OutboxEmail.objects.filter(pk__gt=last_id, status=Status.SENT).count() >= n,
        timeout=60,
        interval=0.1,
        what="burst recorded",
    )
    after = meter()
    still_running = retention.running() if retention else None
    records = esp.records()
    accepted: dict = {}
    for key, at, _digest in records:
        accepted.setdefault(key, at)
    start, end = min(stamps.values()), max(at for _k, at, _d in records)
    cpu = {k: after[k] - before[k] for k in after}
    machine_cpu = cpu.pop("machine")
    accounted = sum(v for k, v in cpu.items() if k != "retention_backend")  # in "postgres" already
    cpu["other"] = max(0.0, machine_cpu - accounted)
    return {
        "n": n,
        "missing": len([k for k in stamps if k not in accepted]),
        "seconds": end - start,
        "per_second": n / (end - start),
        "latency": summary([accepted[k] - stamps[k] for k in stamps if k in accepted]),
        "cpu_seconds": cpu,
        "retention_ran_throughout": still_running,
    }


def _line(b: dict) -> str:
    lat = b["latency"]
    return (
        f"{b['per_second']:.1f} emails/s, p50 {lat['p50'] * 1000:.0f} ms p95 {lat['p95'] * 1000:.0f} ms, "
        f"postgres {b['cpu_seconds']['postgres']:.1f} CPU-s, other {b['cpu_seconds']['other']:.1f} CPU-s"
    )


def alternate(only: str, pairs: int, n: int, esp, worker, pause: float | None = None) -> dict:
    """Bursts without, with, without, ... the retention part ``only``
    running (``--pause pause``): ``pairs`` bursts with, each between two
    without."""
    without = [burst(n, esp, worker)]
    log(f"    without: {_line(without[-1])}")
    with_, work = [], []
    for _ in range(pairs):
        before = progress(only)
        retention = Retention(only, pause)
        retention.start()
        retention.wait_working()
        t0 = time.time()
        with_.append(burst(n, esp, worker, retention))
        retention.stop()
        seconds = time.time() - t0
        after = progress(only)
        # Rows it changed over its whole life (start-up and the wait before
        # the burst included): a lower bound of its rate during the burst.
        done = changed(before, after)
        work.append({**done, "seconds": time.time() - retention.working_at, "during_burst_s": seconds})
        log(f"    with:    {_line(with_[-1])}; retention changed {done['rows']:,} rows")
        without.append(burst(n, esp, worker))
        log(f"    without: {_line(without[-1])}")
    ratios = [
        b["per_second"] / statistics.fmean([without[i]["per_second"], without[i + 1]["per_second"]])
        for i, b in enumerate(with_)
    ]
    p95 = [
        b["latency"]["p95"]
        / statistics.fmean([without[i]["latency"]["p95"], without[i + 1]["latency"]["p95"]])
        for i, b in enumerate(with_)
    ]
    log(f"    with / without: {', '.join(f'{r:.3f}' for r in ratios)}")
    return {
        "pause": pause,
        "without": without,
        "with": with_,
        "retention": work,
        "ratios": ratios,
        "p95_ratios": p95,
    }


# -- the run ---------------------------------------------------------------------


def prepare(args) -> dict:
    """The database (created and filled, or reused with ``--reuse``)."""
    free = shutil.disk_usage("/var/lib/postgresql" if os.path.isdir("/var/lib/postgresql") else "/").free
    if not args.reuse and free < NEED_GIB * 2**30 * args.rows / 10_000_000:
        raise SystemExit(f"only {free / 2**30:.0f} GiB free for PostgreSQL: the run needs about {NEED_GIB}")
    fresh = ensure_database(DB_NAME, rebuild=not args.reuse)
    if fresh:
        subprocess.run([PY, "-m", "django", "migrate", "-v", "0"], cwd=ROOT, env=growth_env(), check=True)
    import django

    django.setup()
    if not fresh:
        from bench.growth_fill import saved

        return {**saved(), "reused": True}
    from bench.growth_fill import fill

    log(f"Filling {DB_NAME} with {args.rows:,} emails over {args.years:g} years")
    return fill(args.rows, args.years, args.bodies_every, log)


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(
        host="127.0.0.1", user=os.environ.get("PGUSER", "postgres"), dbname="postgres"
    ) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    log(f"Dropped {DB_NAME}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--years", type=float, default=4.0)
    parser.add_argument("--bodies-every", type=int, default=10, help="one sent email in N keeps its bodies")
    parser.add_argument("--repeat", type=int, default=7, help="requests per admin page")
    parser.add_argument("--burst", type=int, default=1500, help="emails per send burst")
    parser.add_argument("--pairs", type=int, default=3, help="bursts with retention, per part")
    parser.add_argument("--flat-pairs", type=int, default=1, help="the same with --pause 0")
    parser.add_argument("--latency", type=float, default=50.0, help="ms per ESP API call")
    parser.add_argument("--budget", type=float, default=180.0, help="seconds of retention alone, per part")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="celery --concurrency")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (figures not comparable)")
    parser.add_argument("--results", default=str(RESULTS), help="where the figures go")
    parser.add_argument("--fill-only", action="store_true", help="build the database, measure nothing")
    parser.add_argument("--page", default=str(ROOT / "docs" / "performance.md"), help="the page to update")
    args = parser.parse_args(argv)

    os.environ.update(
        BENCH_DB_NAME=DB_NAME,
        BENCH_REDIS_PORT=str(free_port()),
        BENCH_ESP_PORT=str(free_port()),
        DJANGO_SETTINGS_MODULE=SETTINGS,
        BENCH_DB_REUSE_MAX="1000",
    )
    started = time.time()
    results: dict = {"args": vars(args), "date": time.strftime("%Y-%m-%d")}
    results["machine"] = machine.describe()
    results["code"] = machine.code_state()
    log(f"Machine: {results['machine']['summary']}\nCode: {results['code']['summary']}")
    try:
        results["fill"] = prepare(args)
        from django_order_mail.outbox.models import OutboxEmail

        results["rows"] = OutboxEmail.objects.count()
        if args.fill_only:
            log(f"{DB_NAME}: {results['rows']:,} emails")
            return 0
        log(f"Send-log admin at {results['rows']:,} rows ({args.repeat} requests per page)")
        results["admin"] = measure_admin(args.repeat)
        redis = Redis(int(os.environ["BENCH_REDIS_PORT"]))
        esp = ESP(int(os.environ["BENCH_ESP_PORT"]), "bench-server-token", latency_ms=args.latency)
        worker = Worker(args.concurrency, name="growth", env={"DJANGO_SETTINGS_MODULE": SETTINGS})
        redis.start()
        esp.start()
        import bench.celery_app  # noqa: F401 - this process publishes through it

        try:
            worker.start()
            log(f"Send bursts of {args.burst} at {args.latency:g} ms ESP latency (a warm-up first)")
            burst(min(args.burst, 300), esp, worker)
            for part, label in (("bodies", "strips bodies"), ("delete", "deletes old rows and timelines")):
                # The bursts first: retention alone, flat out, can finish a
                # part's work, and a burst next to a retention with nothing
                # left to do would measure nothing.
                log(f"  bursts without and with retention running: it {label} (the default pause)")
                results[part] = alternate(part, args.pairs, args.burst, esp, worker)
                if args.flat_pairs:
                    log(f"  bursts without and with retention running: it {label} flat out (--pause 0)")
                    results[f"{part}_flat"] = alternate(
                        part, args.flat_pairs, args.burst, esp, worker, pause=0
                    )
                log(f"  retention alone, {args.budget:g} s: it {label} (RETENTION_PAUSE, the default)")
                results[f"{part}_alone"] = retention_alone(part, args.budget)
                log(f"  retention alone, {args.budget / 2:g} s: it {label} flat out (--pause 0)")
                results[f"{part}_alone_flat"] = retention_alone(part, args.budget / 2, pause=0)
        finally:
            worker.stop()
            esp.stop()
            redis.stop()
        from django_order_mail.outbox.models import EmailLog

        t = time.time()
        sql(f"VACUUM ANALYZE {OutboxEmail._meta.db_table}")
        sql(f"VACUUM ANALYZE {EmailLog._meta.db_table}")
        results["vacuum_s"] = time.time() - t
        results["rows_after"] = OutboxEmail.objects.count()
        log(f"Send-log admin at {results['rows_after']:,} rows, after retention and VACUUM")
        results["admin_after"] = measure_admin(args.repeat)
        if args.keep:  # a --reuse run after this one measures what this one left
            from bench.growth_fill import save

            save({**{k: v for k, v in results["fill"].items() if k != "reused"}, "measured": True})
    finally:
        if not args.keep:
            drop_database()
    results["seconds"] = time.time() - started
    results["machine"]["idle_during"] = machine.idle_since(results["machine"])
    Path(args.results).write_text(json.dumps(results, indent=1, default=str) + "\n")
    log(f"Written to {args.results}")
    from bench import growth_report

    growth_report.splice(results, Path(args.page))
    log(f"{args.page}: the Growth section replaced")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
