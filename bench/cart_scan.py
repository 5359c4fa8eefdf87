"""What the abandoned-cart scan costs with 1,000,000 carts on PostgreSQL.

Not part of the test run. From the repository root, with PostgreSQL on
127.0.0.1:5432 (trust auth, user ``postgres``)::

    .venv/bin/python -m bench.cart_scan             # build once, then measure
    .venv/bin/python -m bench.cart_scan --rebuild   # drop and rebuild the data
    .venv/bin/python -m bench.cart_scan --carts 200000

It creates the database ``bench_order_mail_carts`` (tables straight from the
current models), fills ``tests.testapp.Cart`` with ``--carts`` carts whose
last activity is spread evenly over 60 days — 60 % anonymous (no email),
25 % ordered, 5 % emptied, 10 % open with an email (the carts the scan is
about); open carts idle longer than 12 h already had their reminder — and
measures ``carts.scan.scan()``:

* steady state, nothing due (what most beat runs find);
* one beat interval later (5 minutes of carts crossing the 12 h mark);
* a backlog of 10,000 due carts (beat was down for a while): total time
  and time per cart, in batches of ``ABANDONED_CART_BATCH_SIZE``;
* a three-step sequence (1 h / 24 h / 72 h), nothing due;
* nothing due *without* the mixin's partial index, to show what it buys.

Publishing to the broker is replaced by a counter (the scan's own cost is
measured; a publish is one Redis round trip per reminder after commit).
The figures go to ``bench/results/cart_scan.json`` and
``docs/abandoned-cart.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import timedelta
from pathlib import Path

from bench.services import ensure_database, setup_tests_django

DB_NAME = os.environ.get("BENCH_CART_DB", "bench_order_mail_carts")
RESULTS = Path(__file__).resolve().parent / "results" / "cart_scan.json"
SPREAD_SECONDS = 60 * 86400  # last activity spread over 60 days


def setup_django() -> None:
    setup_tests_django(DB_NAME)
    # The scan's own cost: count publishes instead of talking to a broker.
    import django_order_mail.outbox.enqueue as enqueue

    enqueue.publish = lambda ids, countdown=None: len(ids)


def fill(carts: int, now) -> None:
    """``carts`` carts in SQL (a minute, not an hour), relative to ``now``."""
    from django.core.management import call_command
    from django.db import connection

    from tests.testapp.models import Cart

    call_command("migrate", run_syncdb=True, verbosity=0)
    table = Cart._meta.db_table
    step = SPREAD_SECONDS / carts
    kind = "mod(g, 20)"  # 0-11 anonymous, 12-16 ordered, 17 emptied, 18-19 open with an email
    activity = f"%(now)s - (g * {step}) * interval '1 second'"
    has_email = f"{kind} >= 12"
    is_open = f"{kind} >= 18"
    idle_12h = f"g * {step} >= 43200"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(1, carts + 1, 100_000):
            stop = min(carts, start + 99_999)
            cursor.execute(
                f"""INSERT INTO {table} (email, language, email_captured_at, last_activity_at, emptied_at,
                        reminders_off, ordered_at, placed_order_id, reminder_step, last_reminded_at,
                        customer_name, currency)
                    SELECT CASE WHEN {has_email} THEN 'shopper' || g || '@example.com' ELSE '' END,
                           'en',
                           CASE WHEN {has_email} THEN {activity} - interval '10 minutes' END,
                           {activity},
                           CASE WHEN {kind} = 17 THEN {activity} END,
                           false,
                           CASE WHEN {kind} BETWEEN 12 AND 16 THEN {activity} + interval '20 minutes' END,
                           '',
                           CASE WHEN {is_open} AND {idle_12h} THEN 1 ELSE 0 END,
                           CASE WHEN {is_open} AND {idle_12h} THEN {activity} + interval '12 hours' END,
                           'Shopper ' || g, 'EUR'
                      FROM generate_series({start}, {stop}) AS g""",
                {"now": now},
            )
            print(f"  {stop:>9,} carts", flush=True)
        cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"  filled in {time.perf_counter() - started:.0f} s")


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def explain(now) -> str:
    from django.db import connection

    from django_order_mail.carts.scan import due_carts
    from django_order_mail.carts.sequence import parse_steps
    from tests.testapp.models import Cart

    qs = due_carts(Cart, parse_steps([12])[0], now).order_by("last_activity_at", "pk")[:500]
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def set_steps(now, hours: list[int]) -> None:
    """Open carts as the sequence ``hours`` leaves them: each had the steps
    its idle time has passed, the last one ``hours[k]`` after its activity."""
    from django.db import connection

    from tests.testapp.models import Cart

    done = list(reversed(list(enumerate(hours, start=1))))
    past = "%(now)s - last_activity_at >= interval '{} hours'"
    step = " ".join(f"WHEN {past.format(h)} THEN {n}" for n, h in done)
    reminded = " ".join(
        f"WHEN {past.format(h)} THEN last_activity_at + interval '{h} hours'" for _n, h in done
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Cart._meta.db_table}
                   SET reminder_step = CASE {step} ELSE 0 END, last_reminded_at = CASE {reminded} END
                 WHERE email_captured_at IS NOT NULL AND ordered_at IS NULL AND emptied_at IS NULL""",
            {"now": now},
        )
        cursor.execute(f"VACUUM ANALYZE {Cart._meta.db_table}")


def reset(now) -> None:
    """Back to the filled state: reminders deleted, one 12 h step done where due."""
    from django_order_mail.outbox.models import EmailLog, OutboxEmail

    EmailLog.objects.all().delete()
    OutboxEmail.objects.all().delete()
    set_steps(now, [12])


def backlog(now, carts: int) -> int:
    """Make the ``carts`` most recently idle-past-12h open carts due again."""
    from django.db import connection

    from tests.testapp.models import Cart

    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {Cart._meta.db_table} SET reminder_step = 0, last_reminded_at = NULL
                 WHERE id IN (SELECT id FROM {Cart._meta.db_table}
                               WHERE email_captured_at IS NOT NULL AND ordered_at IS NULL
                                 AND emptied_at IS NULL AND last_activity_at <= %(now)s - interval '12 hours'
                               ORDER BY last_activity_at DESC LIMIT %(n)s)""",
            {"now": now, "n": carts},
        )
        return cursor.rowcount


def measure(now, repeat: int) -> dict:
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from django_order_mail.carts.scan import scan
    from django_order_mail.outbox.models import OutboxEmail
    from tests.testapp.models import Cart

    results: dict = {}

    def idle_run(label):
        """Repeated scans that find nothing: median time and queries."""
        with CaptureQueriesContext(connection) as queries:
            median, handled = timed(lambda: scan(now=now), repeat)
        assert not any(handled.values()), handled
        results[label] = {"median_ms": round(median, 1), "queries_per_run": len(queries) // repeat}
        print(f"  {label:<44} {median:>9.1f} ms", flush=True)

    def writing_run(label, when):
        """One scan that writes reminders: total time and time per reminder."""
        before = OutboxEmail.objects.count()
        started = time.perf_counter()
        scan(now=when)
        elapsed = (time.perf_counter() - started) * 1000
        written = OutboxEmail.objects.count() - before
        results[label] = {
            "total_ms": round(elapsed, 1),
            "reminders_written": written,
            "ms_per_reminder": round(elapsed / written, 3) if written else None,
        }
        print(f"  {label:<44} {elapsed:>9.1f} ms  {written:,} reminders", flush=True)

    reset(now)
    idle_run("nothing due (1 step)")
    results["plan"] = explain(now)
    writing_run("5 minutes later (1 step)", now + timedelta(minutes=5))
    reset(now)
    backlog(now, 10_000)
    writing_run("backlog of 10,000 due carts (1 step)", now)
    set_steps(now, [1, 24, 72])
    with override_settings(
        ORDER_MAIL={"ABANDONED_CART_STEPS": [1, 24, 72], "SITE_URL": "https://shop.example"}
    ):
        idle_run("nothing due (3 steps)")
        writing_run("5 minutes later (3 steps)", now + timedelta(minutes=5))
    reset(now)
    index = next(i for i in Cart._meta.indexes if i.fields[:2] == ["reminder_step", "last_activity_at"])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {index.name}")
    try:
        idle_run("nothing due, WITHOUT the partial index")
    finally:
        with connection.schema_editor() as editor:
            editor.add_index(Cart, index)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data")
    args = parser.parse_args(argv)

    fresh = ensure_database(DB_NAME, args.rebuild)
    setup_django()
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from tests.testapp.models import Cart

    if fresh:
        now = timezone.now().replace(microsecond=0)
        print(f"Filling {DB_NAME} with {args.carts:,} carts")
        fill(args.carts, now)
    else:
        # "now" of the data: the newest activity is at now - 1 step.
        now = Cart.objects.aggregate(n=Max("last_activity_at"))["n"] + timedelta(seconds=1)
    total = Cart.objects.count()
    open_carts = Cart.objects.filter(
        email_captured_at__isnull=False, ordered_at__isnull=True, emptied_at__isnull=True
    ).count()
    print(f"Measuring the scan with {total:,} carts ({open_carts:,} open with an email)")
    results = measure(now, args.repeat)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    RESULTS.parent.mkdir(exist_ok=True)
    plan = results.pop("plan")
    RESULTS.write_text(
        json.dumps(
            {
                "carts": total,
                "open_with_email": open_carts,
                "postgres": server,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "results": results,
                "plan_nothing_due": plan.splitlines(),
            },
            indent=2,
        )
        + "\n"
    )
    print(plan)
    print(f"Written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
