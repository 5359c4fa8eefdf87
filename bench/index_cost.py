"""What the send log's optional indexes add to writing an email.

Part of ``bench/admin_changelist.py`` (it needs that bench's filled send
log, for real names, addresses and bodies). Each index is measured the same
way: two empty copies of the send-log table, one with every index the models
and migrations give it and one without the index in question, the same rows
written into both, one autocommitted statement per row, the copies taking
turns row by row (so that drift hits both alike); the figure is the median
per row. The copies are dropped afterwards.

* The two trigram indexes of migration 0003 (the send-log searches by part
  of a name or an address), on the ``INSERT`` that ``enqueue()`` runs in the
  order's transaction: a row with no body yet.
* The partial index of the rows that still hold a body, ``order_mail_with_body_idx``
  (migration 0010, retention's body stripping, ``docs/data-protection.rst``):
  it holds no queued row, so it costs nothing on that ``INSERT``; its cost is
  on the ``UPDATE`` that records a sent email with its bodies. Measured here
  without the log line that ``delivery/record.py`` writes in the same
  statement (the same in both copies).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

#: The columns ``enqueue()`` writes (the JSON read as text, cast back on insert).
COLUMNS = (
    "idempotency_key, event, status, content_type_id, object_id, reference, channel, language, "
    "recipient, customer_name, extra, created_at, updated_at, attempts, last_error, esp_message_id, "
    "delivery_status, open_count, click_count, subject, body_text, body_html, is_test"
)
WITH_BODY_INDEX = "order_mail_with_body_idx"


def _copies(cursor, table: str, drop_where: str, params: list) -> list[str]:
    """``bench_index_with`` and ``bench_index_without``, empty copies of
    ``table`` with its indexes; the indexes of the second matching
    ``drop_where`` (a condition on ``pg_indexes``) dropped, their names returned."""
    for name in ("bench_index_with", "bench_index_without"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
    cursor.execute(
        f"SELECT indexname FROM pg_indexes WHERE tablename = 'bench_index_without' AND {drop_where}", params
    )
    dropped = [name for (name,) in cursor.fetchall()]
    for name in dropped:
        cursor.execute(f'DROP INDEX "{name}"')
    return dropped


def _turns(count: int, statement: Callable[[str, int], tuple[str, list]]) -> dict[str, float]:
    """Run ``statement(copy, number)`` for each row number in both copies,
    taking turns; the median ms per row of each copy."""
    from django.db import connection

    times: dict[str, list[float]] = {"bench_index_with": [], "bench_index_without": []}
    connection.ensure_connection()
    for number in range(count):
        order = list(times) if number % 2 else list(times)[::-1]
        for name in order:
            sql, params = statement(name, number)
            started = time.perf_counter()
            with connection.cursor() as cursor:  # autocommit: one transaction per row
                cursor.execute(sql, params)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def _drop(cursor) -> None:
    for name in ("bench_index_with", "bench_index_without"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _rows(cursor, table: str, rows: int) -> list[tuple]:
    """``rows`` send-log rows as ``enqueue()`` writes them (no body yet),
    each followed by the subject and bodies it was sent with."""
    select = COLUMNS.replace("extra,", "extra::text,").replace("body_text, body_html", "'', ''")
    cursor.execute(
        f"SELECT {select}, body_text, body_html FROM {table} "
        "WHERE customer_name <> '' AND body_html <> '' ORDER BY id LIMIT %s",
        [rows],
    )
    return cursor.fetchall()


def _insert(name: str, row: tuple, number: int) -> tuple[str, list]:
    placeholders = ", ".join("%s::jsonb" if c.strip() == "extra" else "%s" for c in COLUMNS.split(","))
    values = list(row[:-2])
    values[0] = f"{name}:{number}"  # the idempotency key is unique
    return f"INSERT INTO {name} ({COLUMNS}) VALUES ({placeholders})", values


def insert_cost(say, rows: int = 5000) -> None:
    """What the trigram indexes add to the ``INSERT`` of a queued email."""
    from django.db import connection

    from django_order_mail.outbox.models import OutboxEmail
    from django_order_mail.outbox.search import TRIGRAM_INDEXES

    with connection.cursor() as cursor:
        dropped = _copies(cursor, OutboxEmail._meta.db_table, "indexdef LIKE %s", ["%gin_trgm_ops%"])
        data = _rows(cursor, OutboxEmail._meta.db_table, rows)
    if len(dropped) != len(TRIGRAM_INDEXES) or not data:
        say("  insert cost: not measured (no trigram indexes or no rows)")
    else:
        median = _turns(len(data), lambda name, number: _insert(name, data[number], number))
        say(
            f"  insert of one email row ({len(data):,} each): {median['bench_index_with']:.3f} ms with "
            f"the trigram indexes, {median['bench_index_without']:.3f} ms without (median)"
        )
    with connection.cursor() as cursor:
        _drop(cursor)


def sent_update_cost(say, rows: int = 5000) -> None:
    """What the with-body index adds to recording a sent email: the same
    queued rows in both copies, then each row's ``UPDATE`` to ``sent`` with
    its subject and bodies."""
    from django.db import connection

    from django_order_mail.outbox.models import OutboxEmail

    with connection.cursor() as cursor:
        # A copy's indexes get names of PostgreSQL's choosing: found by their definition.
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [WITH_BODY_INDEX])
        found = cursor.fetchone()
        definition = "% USING " + found[0].split(" USING ", 1)[1] if found else "(none)"
        dropped = _copies(cursor, OutboxEmail._meta.db_table, "indexdef LIKE %s", [definition])
        data = _rows(cursor, OutboxEmail._meta.db_table, rows)
        ids: dict[str, list[int]] = {}
        for name in ("bench_index_with", "bench_index_without"):
            ids[name] = []
            for number, row in enumerate(data):
                sql, params = _insert(name, row, number)
                cursor.execute(sql + " RETURNING id", params)
                ids[name].append(cursor.fetchone()[0])
            cursor.execute(f"UPDATE {name} SET status = 'sending', attempts = 1")
            cursor.execute(f"VACUUM ANALYZE {name}")
    if len(dropped) != 1 or not data:
        say(f"  sent-email update cost: not measured (no {WITH_BODY_INDEX} or no rows)")
    else:

        def update(name: str, number: int) -> tuple[str, list]:
            body_text, body_html = data[number][-2:]
            sql = (
                f"UPDATE {name} SET status = 'sent', updated_at = now(), sent_at = now(), "
                "esp_message_id = %s, body_text = %s, body_html = %s, last_error = '' "
                "WHERE id = %s AND status IN ('sending', 'queued')"
            )
            return sql, [f"bench-{number}", body_text, body_html, ids[name][number]]

        median = _turns(len(data), update)
        say(
            f"  update of one email row to sent with its bodies ({len(data):,} each): "
            f"{median['bench_index_with']:.3f} ms with the with-body index, "
            f"{median['bench_index_without']:.3f} ms without (median)"
        )
    with connection.cursor() as cursor:
        _drop(cursor)
