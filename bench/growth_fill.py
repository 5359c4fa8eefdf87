"""Ten million send-log rows in SQL, for ``bench/growth.py``.

A shop that never deleted anything: ``--years`` of orders, growing (the
rows per day rise linearly, so the last year holds far more than the
first), 6-10 emails per order spread over the packaged events, mostly sent,
with the skipped, suppressed, failed and cancelled rows a real log has,
feedback requests and review reminders still scheduled in the last two
weeks, a few queued rows, resends (0.1 %), ESP message ids shaped like
Postmark's, delivery outcomes, and one timeline entry per email (two for a
scheduled one). One sent email in ``bodies_every`` keeps its bodies - the
packaged order confirmation as rendered (about 6 KB of HTML plus its plain
text) - so the bodies take gigabytes, not tens of them.

Everything is ``INSERT ... SELECT ... FROM generate_series``: the secondary
indexes and the unique constraint are dropped first and built again at the
end (far faster than maintaining a dozen B-trees row by row), then both
tables are vacuumed and analysed, as autovacuum would have done over years.
"""

from __future__ import annotations

import json
import time

#: Where the fill notes what it made, in the bench database.
FILL_TABLE = "bench_growth_fill"

#: Events and their share of the log, per mille (a confirmation, shipping
#: mails, delivery, the feedback request and review reminder per order;
#: abandoned-cart reminders; the rare payment, edit, hold, cancel, refund).
EVENTS = (
    ("order_confirmation", 150),
    ("shipping_confirmation", 140),
    ("shipping_update", 50),
    ("out_for_delivery", 100),
    ("delivered", 140),
    ("feedback_request", 120),
    ("review_reminder", 60),
    ("abandoned_cart", 120),
    ("payment_failed", 30),
    ("order_edited", 30),
    ("order_on_hold", 10),
    ("cancellation", 20),
    ("refund", 30),
)
#: Final statuses of the older rows, per mille.
STATUSES = (("sent", 945), ("skipped", 30), ("suppressed", 10), ("failed", 8), ("cancelled", 7))
#: Events that are scheduled days after they are written (sent 14 days later).
DELAYED = ("feedback_request", "review_reminder")
#: Address domains by share (per 100), the last one a company's own.
DOMAINS = (
    ("gmail.com", 40),
    ("hotmail.com", 14),
    ("outlook.com", 8),
    ("online.no", 10),
    ("icloud.com", 10),
    ("yahoo.com", 5),
    ("live.no", 3),
    ("company", 10),
)
_FIRST_NAMES = (
    "Ingrid Kari Anne Marit Nora Emma Sofie Ella Maja Sara Ida Hanna Thea Julie Ane Linnea Astrid Silje "
    "Hilde Tone Mette Lise Camilla Ragnhild Solveig Tina Grete Eva Laila Berit "
    "Ole Lars Per Jan Knut Bjorn Arne Terje Morten Jonas Emil Henrik Magnus Kristian Sander Jakob "
    "Oskar Filip Lukas Mathias Tobias Even Sindre Erlend Odd Geir Rune Espen Kjetil Trond"
)
_LAST_NAMES = (
    "Hansen Johansen Olsen Larsen Andersen Pedersen Nilsen Kristiansen Jensen Karlsen Johnsen "
    "Pettersen Eriksen Berg Haugen Hagen Johannessen Andreassen Jacobsen Dahl Jorgensen Henriksen "
    "Lund Halvorsen Sorensen Jakobsen Moen Gundersen Iversen Strand Solberg Svendsen Eide Knutsen "
    "Martinsen Paulsen Bakken Kristoffersen Mathisen Lie Amundsen Nguyen Rasmussen Ali Lunde "
    "Solheim Berntsen Moe Kristensen Bakke Fredriksen Holm Lien Hauge Christensen Andresen Nielsen "
    "Knudsen Evensen Sæther Aas Myhre Hanssen Ahmed Haugland Thomassen Sivertsen Simonsen Danielsen "
    "Berge Rønning Vik Ruud Lorentzen Aasen Wold Kaur Smith Novak Kowalski"
)
FIRST, LAST = _FIRST_NAMES.split(), _LAST_NAMES.split()


def _buckets(column: str, weights) -> str:
    parts, edge = [], 0
    for value, weight in weights:
        edge += weight
        parts.append(f"WHEN {column} < {edge} THEN '{value}'")
    return "CASE " + " ".join(parts) + f" ELSE '{weights[-1][0]}' END"


def _rows_sql(rows: int, years: float) -> str:
    """The generated rows (one per ``g``) with their derived columns."""
    span = years * 365.25
    delayed = ", ".join(f"'{e}'" for e in DELAYED)
    return f"""
        SELECT g, o, c, created, ev, hs, hd,
            CASE WHEN g > {rows} - 100 THEN 'queued'
                 WHEN ev IN ({delayed}) AND created > now() - interval '14 days' THEN 'scheduled'
                 ELSE {_buckets("hs", STATUSES)} END AS st,
            'NO-' || lpad(o::text, 8, '0') AS ref
        FROM (
            SELECT g, g / 8 AS o, mod((g / 8) * 7919, 600000) AS c,
                now() - interval '1 day' * ({span} * (1 - sqrt(g::float8 / {rows}))) AS created,
                {_buckets("mod(abs(hashint8extended(g, 1)), 1000)", EVENTS)} AS ev,
                mod(abs(hashint8extended(g, 2)), 1000) AS hs,
                mod(abs(hashint8extended(g, 3)), 1000) AS hd
            FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
        ) AS x
    """


def _columns(model, connection, sample, bodies_every: int) -> tuple[list[str], list[str], dict]:
    """Column names and SQL expressions over ``_rows_sql``'s columns, for
    every concrete field of the current ``OutboxEmail`` (a field added later
    gets its default)."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get(app_label="testapp", model="order")
    delayed = ", ".join(f"'{e}'" for e in DELAYED)
    sent_at = f"created + CASE WHEN ev IN ({delayed}) THEN interval '14 days' ELSE interval '2 seconds' END"
    first = "ARRAY[" + ", ".join(f"'{n}'" for n in FIRST) + "]"
    last = "ARRAY[" + ", ".join(f"'{n}'" for n in LAST) + "]"
    # One name per customer number c (unique with the number after it).
    name_parts = (
        f"({first})[1 + mod(c, {len(FIRST)})]",
        f"({last})[1 + mod(c / {len(FIRST)}, {len(LAST)})]",
    )
    suffix = f"(c / {len(FIRST) * len(LAST)})"
    domain = _buckets("mod(c * 37, 100)", DOMAINS).replace("'company'", "'firma' || mod(c, 5000) || '.no'")
    local = (
        f"translate(lower({name_parts[0]} || '.' || {name_parts[1]}), 'æøå', 'aoa') || "
        f"CASE WHEN {suffix} > 0 THEN {suffix}::text ELSE '' END"
    )
    with_body = f"st = 'sent' AND mod(g, {bodies_every}) = 0"
    custom = {
        "id": "g",
        "idempotency_key": "ev || ':testapp.order:' || o || ':' || g",
        "event": "ev",
        "status": "st",
        "content_type": str(ct.pk),
        "object_id": "o::text",
        "reference": "ref",
        "channel": "CASE mod(o, 20) WHEN 0 THEN 'amazon_fbm' WHEN 1 THEN 'aliexpress' ELSE 'web' END",
        "language": "CASE mod(c, 10) WHEN 0 THEN 'en' WHEN 1 THEN 'sv' ELSE 'nb' END",
        "recipient": f"{local} || '@' || {domain}",
        "customer_name": f"{name_parts[0]} || ' ' || {name_parts[1]}",
        "send_after": (
            f"CASE WHEN st = 'scheduled' OR (st = 'sent' AND ev IN ({delayed})) "
            "THEN created + interval '14 days' END"
        ),
        "enqueued_at": (
            f"CASE WHEN st IN ('queued', 'sent', 'failed') THEN {sent_at} - interval '1 second' END"
        ),
        "claimed_at": f"CASE WHEN st IN ('sent', 'failed') THEN {sent_at} - interval '1 second' END",
        "sent_at": f"CASE WHEN st = 'sent' THEN {sent_at} END",
        "created_at": "created",
        "updated_at": f"CASE WHEN st IN ('sent', 'failed') THEN {sent_at} ELSE created END",
        "attempts": "CASE WHEN st IN ('sent', 'failed') THEN 1 ELSE 0 END",
        "last_error": (
            "CASE st WHEN 'failed' THEN 'ESP answered 422: inactive recipient' "
            "WHEN 'skipped' THEN 'frequency cap: 1 commercial email per 24 hours' ELSE '' END"
        ),
        "esp_message_id": "CASE WHEN st = 'sent' THEN md5(g::text)::uuid::text ELSE '' END",
        "delivery_status": (
            "CASE WHEN st <> 'sent' THEN '' WHEN hd < 5 THEN 'bounced' WHEN hd < 7 THEN 'complained' "
            "ELSE 'delivered' END"
        ),
        "delivery_status_at": f"CASE WHEN st = 'sent' THEN {sent_at} + interval '5 seconds' END",
        "delivered_at": f"CASE WHEN st = 'sent' AND hd >= 5 THEN {sent_at} + interval '5 seconds' END",
        "opened_at": f"CASE WHEN st = 'sent' AND hd >= 550 THEN {sent_at} + interval '1 hour' END",
        "clicked_at": f"CASE WHEN st = 'sent' AND hd >= 880 THEN {sent_at} + interval '1 hour' END",
        "open_count": "CASE WHEN st = 'sent' AND hd >= 550 THEN 1 + mod(hd, 3) ELSE 0 END",
        "click_count": "CASE WHEN st = 'sent' AND hd >= 880 THEN 1 ELSE 0 END",
        "subject": "initcap(replace(ev, '_', ' ')) || ': order ' || ref",
        "body_html": f"CASE WHEN {with_body} THEN replace(%(html)s, '1001', ref) ELSE '' END",
        "body_text": f"CASE WHEN {with_body} THEN replace(%(text)s, '1001', ref) ELSE '' END",
        "resend_of": "CASE WHEN hd = 999 AND g > 7 THEN g - 7 END",
    }
    columns, exprs, params = [], [], {"html": sample.html, "text": sample.text}
    for field in model._meta.concrete_fields:
        columns.append(connection.ops.quote_name(field.column))
        if field.name in custom:
            exprs.append(custom[field.name])
        elif field.null:
            exprs.append("NULL")
        else:
            key = f"default_{field.column}"
            params[key] = field.get_db_prep_save(field.get_default(), connection)
            exprs.append(f"%({key})s")
    return columns, exprs, params


def _drop_indexes(cursor, table: str) -> list[str]:
    """Drop the secondary indexes and unique constraints of ``table``;
    the statements that build them again."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    constraints = cursor.fetchall()
    rebuild = [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints
    ]
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.indexname))::regclass)",
        [table],
    )
    for name, definition in cursor.fetchall():
        rebuild.append(definition)
        cursor.execute(f'DROP INDEX "{name}"')
    return rebuild


def fill(rows: int, years: float, bodies_every: int, log) -> dict:
    """Fill the (empty, migrated) send log; returns what it made and how long it took."""
    from django.db import connection

    from django_order_mail.events import MailEvent
    from django_order_mail.outbox.models import EmailLog, OutboxEmail
    from django_order_mail.rendering.render import render_event
    from django_order_mail.rendering.sample import sample_context

    sample = render_event(MailEvent.ORDER_CONFIRMATION, sample_context(MailEvent.ORDER_CONFIRMATION))
    table, log_table = OutboxEmail._meta.db_table, EmailLog._meta.db_table
    columns, exprs, params = _columns(OutboxEmail, connection, sample, bodies_every)
    times = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET synchronous_commit = off")
        rebuild = _drop_indexes(cursor, table) + _drop_indexes(cursor, log_table)
        chunk = 500_000
        for start in range(1, rows + 1, chunk):
            stop = min(rows, start + chunk - 1)
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)} "
                f"FROM ({_rows_sql(rows, years)}) AS r",
                {**params, "start": start, "stop": stop},
            )
            log(f"  {stop:>12,} emails  {time.perf_counter() - started:6.0f} s")
        times["emails_s"] = time.perf_counter() - started
        t = time.perf_counter()
        for start in range(1, rows + 1, 2 * chunk):
            stop = min(rows, start + 2 * chunk - 1)
            cursor.execute(
                f"INSERT INTO {log_table} (email_id, created_at, status, message) "
                "SELECT id, created_at, 'scheduled', 'scheduled' FROM "
                f"{table} WHERE id BETWEEN %s AND %s AND send_after IS NOT NULL "
                "UNION ALL SELECT id, COALESCE(sent_at, updated_at), status, CASE status "
                "WHEN 'sent' THEN 'accepted by the ESP' WHEN 'failed' THEN last_error "
                f"WHEN 'skipped' THEN last_error ELSE status END FROM {table} WHERE id BETWEEN %s AND %s",
                [start, stop, start, stop],
            )
        times["timeline_s"] = time.perf_counter() - t
        log(f"  timelines in {times['timeline_s']:.0f} s")
        t = time.perf_counter()
        for statement in rebuild:
            cursor.execute(statement)
        times["indexes_s"] = time.perf_counter() - t
        log(f"  {len(rebuild)} indexes and constraints built again in {times['indexes_s']:.0f} s")
        for name in (table, log_table):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {name}))", [name]
            )
        t = time.perf_counter()
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(f"VACUUM ANALYZE {log_table}")
        times["vacuum_s"] = time.perf_counter() - t
        cursor.execute(f"SELECT count(*) FROM {log_table}")
        timeline_rows = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {table} WHERE body_html <> ''")
        with_bodies = cursor.fetchone()[0]
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_total_relation_size(%s), pg_indexes_size(%s)",
            [table, log_table, table],
        )
        size, log_size, index_size = cursor.fetchone()
    times["total_s"] = time.perf_counter() - started
    log(f"  filled in {times['total_s']:.0f} s")
    result = {
        "rows": rows,
        "years": years,
        "bodies_every": bodies_every,
        "timeline_rows": timeline_rows,
        "rows_with_bodies": with_bodies,
        "html_bytes": len(sample.html.encode()),
        "text_bytes": len(sample.text.encode()),
        "table_bytes": size,
        "index_bytes": index_size,
        "timeline_bytes": log_size,
        "seconds": times,
    }
    save(result)
    return result


def save(result: dict) -> None:
    """Keep what the fill made in the database itself, for a ``--reuse`` run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {FILL_TABLE} (data jsonb)")
        cursor.execute(f"DELETE FROM {FILL_TABLE}")
        cursor.execute(f"INSERT INTO {FILL_TABLE} (data) VALUES (%s::jsonb)", [json.dumps(result)])


def saved() -> dict:
    """What :func:`fill` made, as it saved it (``{}`` if it did not)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [FILL_TABLE])
        if cursor.fetchone()[0] is None:
            return {}
        cursor.execute(f"SELECT data FROM {FILL_TABLE}")
        row = cursor.fetchone()
    return json.loads(row[0]) if row and isinstance(row[0], str) else (row[0] if row else {})
