"""Searching the send log by part of a customer's name or address.

Staff type "hansen" or "gmail.com" and expect the emails of that customer.
A substring match (``UPPER(col) LIKE UPPER('%term%')``) cannot use a B-tree,
so on a log of millions of rows it needs help from the database:

* **PostgreSQL** - two trigram GIN indexes (``pg_trgm``'s ``gin_trgm_ops``,
  on ``UPPER(recipient)`` and ``UPPER(customer_name)``) answer the two
  ``LIKE`` conditions from the index. Migration ``0003`` creates the
  ``pg_trgm`` extension where the database user may, and then the indexes;
  where it may not, it leaves both out and check ``W020`` says what the
  database administrator runs (:data:`INDEX_SQL`). Until they exist the
  search stays exact only: one ``LIKE`` without its index would make every
  search, the exact ones too, read the whole log (seconds at a million
  rows).
* **SQLite and other databases** - the same ``LIKE`` conditions, read by
  scanning the table: fine for development and small shops, documented in
  ``docs/staff-guide.rst``.

A term shorter than :data:`MIN_PARTIAL` characters is matched exactly only:
a trigram index cannot narrow down one or two letters.
"""

from __future__ import annotations

from django.core.checks import Warning
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q, QuerySet

#: Shortest term matched as a part of a name or address.
MIN_PARTIAL = 3

#: Index name -> the column whose upper-cased text it indexes.
TRIGRAM_INDEXES = {
    "order_mail_recipient_trgm": "recipient",
    "order_mail_name_trgm": "customer_name",
}

#: What a database administrator runs where the migration could not (a
#: user without the right to create extensions); CONCURRENTLY keeps the
#: send log writable while the index is built.
INDEX_SQL = "\n".join(
    [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        *(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON django_order_mail_outboxemail "
            f"USING gin (UPPER({column}) gin_trgm_ops);"
            for name, column in TRIGRAM_INDEXES.items()
        ),
    ]
)


def search_condition(term: str, *, partial: bool = True) -> Q:
    """The rows ``term`` finds: exact order number, ESP message id, email id
    or a whole address in any case (B-tree lookups), and with ``partial``
    for :data:`MIN_PARTIAL` characters or more that are not a whole address,
    part of the recipient's address or name."""
    term = term.strip()
    condition = Q(reference=term) | Q(esp_message_id=term)
    if term.isdigit():
        condition |= Q(pk=int(term))
    if is_whole_address(term):
        # One customer's emails, in any case, through the B-tree on
        # UPPER(recipient) (migration 0007). Not also as a part: at millions
        # of rows sharing a domain the trigram index reads most of the log
        # (416 ms at 10,000,000 rows, docs/performance.md), and a part would
        # find joann@example.com for ann@example.com.
        return condition | Q(recipient__iexact=term)
    if "@" in term:  # addresses are stored as given: the usual two spellings
        condition |= Q(recipient=term) | Q(recipient=term.lower())
    if partial and len(term) >= MIN_PARTIAL:
        condition |= Q(recipient__icontains=term) | Q(customer_name__icontains=term)
    return condition


def is_whole_address(term: str) -> bool:
    """Whether ``term`` is a complete email address (Django's validator),
    not a part such as ``hansen@`` or ``@fjordpost.no``."""
    try:
        validate_email(term)
    except ValidationError:
        return False
    return True


def search(queryset: QuerySet, term: str) -> QuerySet:
    """``queryset`` narrowed to :func:`search_condition`; unchanged for an
    empty term. By part of a name or address where :func:`partial_search`
    says the database can."""
    if not term.strip():
        return queryset
    return queryset.filter(search_condition(term, partial=partial_search(queryset.db)))


def partial_search(using: str = "default") -> bool:
    """Whether to search by part of a name or address: on PostgreSQL only
    with both trigram indexes (one query on ``pg_indexes``), elsewhere always
    (the documented full scan)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return True
    return not _absent_indexes(connection)


def _absent_indexes(connection) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)",
            [list(TRIGRAM_INDEXES)],
        )
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in TRIGRAM_INDEXES if name not in present]


def missing_trigram_indexes(using: str = "default") -> list[str]:
    """Names of the trigram indexes a PostgreSQL database lacks once its
    migration ``0003`` ran ([] elsewhere, and before that migration)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    applied = MigrationRecorder(connection).applied_migrations()
    if ("django_order_mail", "0003_send_log_search") not in applied:
        return []
    return _absent_indexes(connection)


def check_search_indexes(databases=None, **kwargs) -> list[Warning]:
    """``W020``: a PostgreSQL database without the trigram indexes (the
    migration could not create ``pg_trgm``). A database check: ``migrate``
    and ``manage.py check --database default`` run it."""
    warnings = []
    for alias in databases or ():
        missing = missing_trigram_indexes(alias)
        if missing:
            warnings.append(
                Warning(
                    f"The send log's search by part of a name or address has no index on database "
                    f"{alias!r} (missing: {', '.join(missing)}), so it is off: staff can search exact "
                    "order numbers, addresses and ids only.",
                    hint="Ask the database administrator to run, once:\n" + INDEX_SQL,
                    id="django_order_mail.W020",
                )
            )
    return warnings
