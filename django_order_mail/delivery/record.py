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
the row was updated. A connection error is retried on a new connection
(:func:`record_outcome`).
"""

from __future__ import annotations

import logging
import time
from typing import cast

from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.db.models.sql import UpdateQuery

from ..outbox.insert import column_of
from ..outbox.models import EmailLog, OutboxEmail

logger = logging.getLogger("django_order_mail.delivery")


#: Attempts at recording, and the pause before each retry (seconds).
RECORD_RETRY_DELAYS = (0.1, 0.5, 2.0)

#: False makes PostgreSQL record as other databases do (``QuerySet.update()``
#: and ``EmailLog.objects.create()`` in ``transaction.atomic``). Only
#: ``bench/machinery.py`` switches it off, to measure what the one statement
#: buys (``docs/performance.md``).
ONE_STATEMENT_ON_POSTGRESQL = True


def record_outcome(row: OutboxEmail, claimed_statuses, *, status: str, message: str, values: dict) -> bool:
    """Apply ``values`` (which include ``status`` and ``updated_at``) to
    ``row`` if it still carries our claim token and is in one of
    ``claimed_statuses``, and log ``status``/``message`` if it did; True if
    the row was updated.

    A worker waiting on the ESP holds an idle database connection, and a
    connection that died meanwhile (a restarted or failed-over server, a
    proxy's idle timeout) is noticed first by this statement — the one that
    must not be lost, or the sweep sends the email again. So a connection
    error is retried on a fresh connection, a few times over about 2.6 s.
    Retrying is safe: if the first attempt did commit, the row is no longer
    in ``claimed_statuses`` and the retry changes nothing.
    """
    using = router.db_for_write(OutboxEmail)
    connection = connections[using]
    for pause in (*RECORD_RETRY_DELAYS, None):
        try:
            return _record(row, claimed_statuses, status=status, message=message, values=values, using=using)
        except (OperationalError, InterfaceError):
            if pause is None or connection.in_atomic_block:
                raise
            logger.warning("Email %s: recording %s failed; retrying on a new connection", row.pk, status)
            connection.close_if_unusable_or_obsolete()
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def update_statement(queryset, values: dict, using: str) -> tuple[str, tuple]:
    """The ``UPDATE`` that ``queryset.update(**values)`` runs, compiled but
    not run (what ``QuerySet.update()`` does before it executes), so it can
    go inside a ``WITH``. ``tests/test_machinery_guards.py`` checks that it
    stays the statement ``update()`` runs."""
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))  # stub: chain(klass) -> Query
    query.add_update_values(values)
    return query.get_compiler(using).as_sql()


def _record(row, claimed_statuses, *, status, message, values, using) -> bool:
    connection = connections[using]
    message = message[:2000]
    claimed = OutboxEmail.objects.using(using).filter(
        pk=row.pk, claim_token=row.claim_token, status__in=claimed_statuses
    )
    if connection.vendor != "postgresql" or not ONE_STATEMENT_ON_POSTGRESQL:
        with transaction.atomic(using=using):
            updated = claimed.update(**values)
            if updated:
                EmailLog.objects.using(using).create(email_id=row.pk, status=status, message=message)
        return bool(updated)
    update_sql, update_params = update_statement(claimed, values, using)
    quote = connection.ops.quote_name
    pk = quote(column_of(OutboxEmail._meta))
    log = EmailLog._meta
    columns = ", ".join(quote(column_of(log, f)) for f in ("email", "created_at", "status", "message"))
    sql = (
        f"WITH updated AS ({update_sql} RETURNING {pk}) "
        f"INSERT INTO {quote(log.db_table)} ({columns}) "
        f"SELECT {pk}, %s, %s, %s FROM updated"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*update_params, values["updated_at"], status, message))
        return cursor.rowcount > 0
