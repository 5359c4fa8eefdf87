"""How fast the send log admin is with 1,000,000 rows on PostgreSQL.

Not part of the test run. From the repository root, with PostgreSQL on
127.0.0.1:5432 (trust auth, user ``postgres``)::

    .venv/bin/python -m bench.admin_changelist            # build once, then measure
    .venv/bin/python -m bench.admin_changelist --rebuild  # drop and rebuild the data
    .venv/bin/python -m bench.admin_changelist --rows 200000

It creates the database ``bench_order_mail_admin`` (tables straight from the
current models), fills the send log with ``--rows`` emails spread over a
year — 90 % sent with a realistic ~6 KB HTML body and its plain text, the
rest skipped, failed, cancelled, queued or scheduled, on three sales
channels, each order's customer with a name (50 first names × 97 last names)
and an address at one of five domains — and one timeline entry per email,
then requests each admin page with Django's test client as a superuser,
``--repeat`` times, and prints the median time and the number of SQL
queries: the list, its filters, and the searches, exact (order number,
address, ESP message id) and by part of an address or a name (the trigram
indexes of migration 0003, ``docs/staff-guide.rst``). The figures go to
``bench/results/admin_changelist.json``; ``--report`` then writes its section
of ``docs/performance.md`` (``bench/report.py``), nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from bench.index_cost import insert_cost, sent_update_cost
from bench.services import ensure_database, setup_tests_django

DB_NAME = os.environ.get("BENCH_ADMIN_DB", "bench_order_mail_admin")
FIRST_NAMES = [
    *("Anna", "Bjørn", "Camille", "Daniel", "Elena", "Farid", "Greta", "Hiro", "Ingrid", "Jonas"),
    *("Kari", "Lars", "Maria", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tina"),
    *("Ulla", "Viktor", "Wei", "Xenia", "Yusuf", "Zofia", "Aksel", "Birgit", "Chen", "Dina"),
    *("Emil", "Frida", "Gustav", "Hanna", "Ivan", "Julia", "Knut", "Lena", "Magnus", "Nora"),
    *("Oskar", "Paula", "Rune", "Sara", "Tor", "Una", "Vera", "Willy", "Yara", "Åse"),
]
_STEMS = [
    *("Hans", "Lar", "Ols", "Pet", "Johan", "Nils", "Kristian", "Andreas"),
    *("Eriks", "Berg", "Dahl", "Lund", "Haug", "Moen", "Strand", "Bakke"),
]
#: 16 stems x 6 endings: "Hansen", "Hansson", "Larvik", ...
LAST_NAMES = [stem + ending for stem in _STEMS for ending in ("en", "sen", "son", "berg", "vik", "rud")]
DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "fjordpost.no", "example.com"]
RESULTS = Path(__file__).resolve().parent / "results" / "admin_changelist.json"


def setup_django() -> None:
    setup_tests_django(DB_NAME)


def fill(rows: int) -> None:
    """``rows`` outbox rows and as many timeline entries, in SQL (minutes, not hours)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    from django_order_mail.events import MailEvent
    from django_order_mail.outbox.models import EmailLog, OutboxEmail
    from django_order_mail.outbox.search import INDEX_SQL
    from django_order_mail.rendering.render import render_event
    from django_order_mail.rendering.sample import sample_context

    call_command("migrate", run_syncdb=True, verbosity=0)
    sample = render_event(MailEvent.ORDER_CONFIRMATION, sample_context(MailEvent.ORDER_CONFIRMATION))
    ct = ContentType.objects.get(app_label="testapp", model="order")
    events = [e for e in MailEvent.values if e not in ("abandoned_cart", "low_score_alert")]
    ref = "lpad((g / 3)::text, 8, '0')"
    first = f"(ARRAY{FIRST_NAMES!r})[1 + mod(g / 3, {len(FIRST_NAMES)})]"
    last = f"(ARRAY{LAST_NAMES!r})[1 + mod(g / 3 / {len(FIRST_NAMES)}, {len(LAST_NAMES)})]"
    domain = f"(ARRAY{DOMAINS!r})[1 + mod(g / 3 / 7, {len(DOMAINS)})]"
    status = (
        "CASE WHEN g <= 300 THEN 'scheduled' WHEN g <= 600 THEN 'queued' "
        "WHEN mod(g, 100) < 90 THEN 'sent' WHEN mod(g, 100) < 95 THEN 'skipped' "
        "WHEN mod(g, 100) < 98 THEN 'failed' ELSE 'cancelled' END"
    )
    sent = f"({status}) = 'sent'"
    custom = {
        "idempotency_key": "'bench:' || g",
        "event": f"(ARRAY{events!r})[1 + mod(g, {len(events)})]",
        "status": status,
        "content_type_id": str(ct.pk),
        "object_id": "(g / 3)::text",
        "reference": ref,
        "channel": "CASE mod(g, 20) WHEN 0 THEN 'amazon_fbm' WHEN 1 THEN 'aliexpress' ELSE 'web' END",
        "language": "'en'",
        "recipient": f"lower({first} || '.' || {last}) || (g / 3) || '@' || {domain}",
        "customer_name": f"{first} || ' ' || {last}",
        "created_at": "now() - g * interval '30 seconds'",
        "sent_at": f"CASE WHEN {sent} THEN now() - g * interval '30 seconds' + interval '2 seconds' END",
        "updated_at": "now() - g * interval '30 seconds'",
        "attempts": "CASE WHEN g <= 600 THEN 0 ELSE 1 END",
        "esp_message_id": f"CASE WHEN {sent} THEN 'pm-' || g ELSE '' END",
        "last_error": (
            f"CASE WHEN ({status}) = 'failed' THEN 'ESP answered 422: inactive recipient' ELSE '' END"
        ),
        "subject": "'Order ' || " + ref + " || ' confirmed'",
        "body_html": f"CASE WHEN {sent} THEN replace(%s, '1001', {ref}) ELSE '' END",
        "body_text": f"CASE WHEN {sent} THEN replace(%s, '1001', {ref}) ELSE '' END",
    }
    columns, exprs, params = [], [], []
    for field in OutboxEmail._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in custom or field.name in custom:
            expr = custom.get(field.attname, custom.get(field.name))
            if field.name == "body_html":
                params.append(sample.html)
            elif field.name == "body_text":
                params.append(sample.text)
            exprs.append(expr)
        elif field.null:
            exprs.append("NULL")
        else:
            exprs.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    table = OutboxEmail._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(1, rows + 1, 100_000):
            stop = min(rows, start + 99_999)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"SELECT {', '.join(exprs)} FROM generate_series({start}, {stop}) AS g",
                params,
            )
            print(f"  {stop:>9,} rows", flush=True)
        log = EmailLog._meta
        cursor.execute(
            f"INSERT INTO {log.db_table} (email_id, created_at, status, message) "
            f"SELECT id, created_at, status, 'accepted by the ESP' FROM {table}"
        )
        # The migration's trigram indexes (the bench builds tables without
        # migrations): built after the rows, as CREATE INDEX CONCURRENTLY
        # on a large log would.
        for statement in INDEX_SQL.split(";"):
            if statement.strip():
                cursor.execute(statement)
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"VACUUM ANALYZE {log.db_table}")
    print(f"  filled in {time.perf_counter() - started:.0f} s")


def measure(repeat: int) -> list[dict]:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from django_order_mail.outbox.models import OutboxEmail

    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@shop.example", "bench"
    )
    client = Client()
    client.force_login(user)
    changelist = reverse("admin:django_order_mail_outboxemail_changelist")
    row = (
        OutboxEmail.objects.filter(status="sent")
        .order_by("-id")
        .only("pk", "reference", "recipient", "customer_name")
        .first()
    )
    # "ola.hansen1234@gmail.com" -> "hansen1234": customers 1234, 12340-12349...
    partial_address = row.recipient.split("@")[0].split(".", 1)[1]
    # "Hansen" -> "Hanse": one last name in 96 (and "Hansenberg"...).
    partial_name = row.customer_name.split()[1][:-1]
    pages = [
        ("list, page 1", changelist, {}),
        ("list, page 100", changelist, {"p": "99"}),
        ("filter: status sent (900,000 match)", changelist, {"status__exact": "sent"}),
        ("filter: status failed", changelist, {"status__exact": "failed"}),
        ("filter: event refund", changelist, {"event__exact": "refund"}),
        ("filter: channel amazon_fbm", changelist, {"channel": "amazon_fbm"}),
        ("filter: created in the past 7 days", changelist, {"created_at__gte": _days_ago(7)}),
        ("filter: failed + amazon_fbm", changelist, {"status__exact": "failed", "channel": "amazon_fbm"}),
        ("search: order number", changelist, {"q": row.reference}),
        ("search: email address", changelist, {"q": row.recipient.upper()}),
        ("search: ESP message id", changelist, {"q": f"pm-{row.pk}"}),
        ("search: part of an address (a few customers)", changelist, {"q": partial_address}),
        ("search: a customer's full name", changelist, {"q": row.customer_name}),
        ("search: part of a last name (~1 % of the log)", changelist, {"q": partial_name}),
        ("search: part of a domain (20 % of the log)", changelist, {"q": "fjordpost"}),
        ("search: part of an address, no match", changelist, {"q": "zzq.nobody"}),
        (
            "detail page (email as sent + timeline)",
            reverse("admin:django_order_mail_outboxemail_change", args=[row.pk]),
            {},
        ),
    ]
    results = []
    for label, url, params in pages:
        assert client.get(url, params).status_code == 200, label
        times = []
        for _ in range(repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, params)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (label, response.status_code)
        slowest_sql = max(float(q["time"]) for q in queries.captured_queries) * 1000
        results.append(
            {
                "page": label,
                "median_ms": round(statistics.median(times), 1),
                "max_ms": round(max(times), 1),
                "queries": len(queries),
                "slowest_query_ms": round(slowest_sql, 1),
            }
        )
        say(f"  {label:<46} {results[-1]['median_ms']:>8.1f} ms  {len(queries):>3} queries")
    return results


#: What the measuring part printed (the report quotes it).
PRINTED: list[str] = []


def say(line: str) -> None:
    print(line, flush=True)
    PRINTED.append(line)


def _days_ago(days: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() - timedelta(days=days)).replace(microsecond=0).isoformat(" ")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data")
    parser.add_argument(
        "--report", action="store_true", help="then write the admin section of docs/performance.md"
    )
    args = parser.parse_args(argv)

    fresh = ensure_database(DB_NAME, args.rebuild)
    setup_django()
    from django.db import connection

    from django_order_mail.outbox.models import OutboxEmail

    if fresh:
        print(f"Filling {DB_NAME} with {args.rows:,} emails")
        fill(args.rows)
    count = OutboxEmail.objects.count()
    say(f"Measuring the send log admin with {count:,} rows ({args.repeat} requests each)")
    results = measure(args.repeat)
    insert_cost(say)
    sent_update_cost(say)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rows": count,
                "postgres": server,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "pages": results,
                "output": "\n".join(PRINTED),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"Written to {RESULTS}")
    if args.report:
        from bench.report import ROOT, splice_admin

        command = " ".join(["-m bench.admin_changelist", *(argv if argv is not None else sys.argv[1:])])
        command = command.replace(" --report", "")
        splice_admin(
            {"command": command, "code": 0, "output": "\n".join(PRINTED)}, ROOT / "docs" / "performance.md"
        )
        print("Written to docs/performance.md (its send-log admin section only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
