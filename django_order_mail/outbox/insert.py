"""``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for outbox rows.

The outbox insert runs inside every order transition that sends mail, so it
is the part of this app a checkout pays for (``docs/performance.md``). Two
things make it cheap:

* one statement: the database says which rows it inserted (``RETURNING``
  the primary key and the idempotency key), so no read-back ``SELECT``;
* the statement for one row, the common case, is compiled by Django's
  ``InsertQuery`` once per database connection alias and reused; only the
  parameters are prepared per row, with each field's own
  ``pre_save``/``get_db_prep_save``, exactly as the compiler does. The first
  use checks that those parameters equal the compiler's; if a future Django
  compiled them differently, the fast path switches itself off.

PostgreSQL and SQLite (3.35+) support it; other databases go through
``bulk_create(ignore_conflicts=True)`` and a read-back in
:func:`django_order_mail.outbox.enqueue.enqueue`.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Field
from django.db.models.constants import OnConflict
from django.db.models.options import Options
from django.db.models.sql import InsertQuery

from .models import OutboxEmail

#: alias -> compiled single-row INSERT ... RETURNING, or None (fast path off)
_single_row_sql: dict[str, str | None] = {}


def supports_returning(using: str) -> bool:
    connection = connections[using]
    return connection.vendor in ("postgresql", "sqlite") and bool(
        connection.features.can_return_rows_from_bulk_insert
    )


def column_of(opts: Options, name: str | None = None) -> str:
    """The database column of concrete field ``name`` (default: the primary key)."""
    field = opts.pk if name is None else opts.get_field(name)
    # The stubs allow a relation (no column) or a column not set yet (None).
    assert isinstance(field, Field) and field.column is not None
    return field.column


def _fields():
    opts = OutboxEmail._meta
    return [f for f in opts.concrete_fields if f is not opts.pk and not f.generated]


def _compiled(rows: list[OutboxEmail], using: str) -> list[tuple[str, list]]:
    connection = connections[using]
    opts = OutboxEmail._meta
    query = InsertQuery(OutboxEmail, on_conflict=OnConflict.IGNORE)
    query.insert_values(_fields(), rows)  # type: ignore[arg-type]  # stub: an invariant list[Model]
    returning = " RETURNING {}, {}".format(
        connection.ops.quote_name(column_of(opts)),
        connection.ops.quote_name(column_of(opts, "idempotency_key")),
    )
    return [(sql + returning, list(params)) for sql, params in query.get_compiler(using).as_sql()]


def _params(row: OutboxEmail, connection) -> list:
    return [f.get_db_prep_save(f.pre_save(row, True), connection) for f in _fields()]


def _stamped(field: Field) -> bool:
    """A field that ``pre_save`` sets to the current time (``auto_now``,
    ``auto_now_add``): two preparations of one row differ by microseconds."""
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _equivalent(compiled: list, mine: list) -> bool:
    """The compiler's parameters and ours match (adapters such as psycopg's
    ``Jsonb`` compare by their ``obj``; the times ``pre_save`` stamps by type
    only: PostgreSQL's are ``datetime`` objects, SQLite's are strings)."""
    fields = _fields()
    if not len(compiled) == len(mine) == len(fields):
        return False
    for field, a, b in zip(fields, compiled, mine, strict=True):
        if type(a) is not type(b):
            return False
        if _stamped(field):
            continue
        if getattr(a, "obj", a) != getattr(b, "obj", b):
            return False
    return True


def _statements(rows: list[OutboxEmail], using: str) -> list[tuple[str, list]]:
    if len(rows) != 1:
        return _compiled(rows, using)
    connection = connections[using]
    if using not in _single_row_sql:
        [(sql, params)] = _compiled(rows, using)
        same = _equivalent(params, _params(rows[0], connection))
        _single_row_sql[using] = sql if same else None
        return [(sql, params)]
    cached = _single_row_sql[using]
    if cached is None:
        return _compiled(rows, using)
    return [(cached, _params(rows[0], connection))]


def insert_returning(rows: list[OutboxEmail], using: str) -> list[OutboxEmail]:
    """Insert ``rows``, skipping idempotency keys that exist; return the rows
    inserted now, with their primary keys set."""
    by_key = {row.idempotency_key: row for row in rows}
    created = []
    with connections[using].cursor() as cursor:
        for sql, params in _statements(rows, using):
            cursor.execute(sql, params)
            for pk, key in cursor.fetchall():
                row = by_key[key]
                row.pk = pk
                row._state.adding = False
                row._state.db = using
                created.append(row)
    return created
