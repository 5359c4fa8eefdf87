"""Record the outcome of a send: the outbox row and its log line, one commit.

The outcome is written right after the ESP call returns, one email at a
time, so that a worker killed mid-batch leaves at most the one email it was
sending unrecorded (the duplicate window, ``docs/reliability.md``). That
makes this write part of every email's cost, and its commit (a WAL flush)
the largest part of it.

On PostgreSQL the conditional ``UPDATE`` and the log ``INSERT`` are one
statement (``WITH updated AS (UPDATE ... RETURNING id) INSERT INTO ...``):
one round trip and one commit, instead of ``BEGIN``, ``UPDATE``,
``INSERT``, ``COMMIT``. Other databases run the same two statements in one
``transaction.atomic`` block. Either way the log line exists exactly when
the row was updated.
"""

from __future__ import annotations

from django.db import connections, router, transaction
from django.db.models.sql import UpdateQuery

from ..outbox.models import EmailLog, OutboxEmail


def record_outcome(row: OutboxEmail, claimed_statuses, *, status: str, message: str, values: dict) -> bool:
    """Apply ``values`` (which include ``status`` and ``updated_at``) to
    ``row`` if it still carries our claim token and is in one of
    ``claimed_statuses``, and log ``status``/``message`` if it did; True if
    the row was updated."""
    using = router.db_for_write(OutboxEmail)
    connection = connections[using]
    message = message[:2000]
    claimed = OutboxEmail.objects.using(using).filter(
        pk=row.pk, claim_token=row.claim_token, status__in=claimed_statuses
    )
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            updated = claimed.update(**values)
            if updated:
                EmailLog.objects.using(using).create(email_id=row.pk, status=status, message=message)
        return bool(updated)
    query = claimed.query.chain(UpdateQuery)
    query.add_update_values(values)
    update_sql, update_params = query.get_compiler(using).as_sql()
    quote = connection.ops.quote_name
    pk = quote(OutboxEmail._meta.pk.column)
    log = EmailLog._meta
    columns = ", ".join(quote(log.get_field(f).column) for f in ("email", "created_at", "status", "message"))
    sql = (
        f"WITH updated AS ({update_sql} RETURNING {pk}) "
        f"INSERT INTO {quote(log.db_table)} ({columns}) "
        f"SELECT {pk}, %s, %s, %s FROM updated"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*update_params, values["updated_at"], status, message))
        return cursor.rowcount > 0
