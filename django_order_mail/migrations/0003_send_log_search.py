"""The send log's search by part of a name or address.

Adds ``customer_name`` and, on PostgreSQL only, two trigram GIN indexes
(``pg_trgm``'s ``gin_trgm_ops`` on ``UPPER(recipient)`` and
``UPPER(customer_name)``: what Django's ``icontains`` compares on
PostgreSQL, so the admin's plain ``icontains`` filter uses them). They are
not part of the model's state: SQLite and other databases cannot build
them, and the operation below is a no-op there.

The ``pg_trgm`` extension is created only where the database user may
(superuser, or a trusted extension and CREATE on the database). Where it
may not, and the extension is not there yet, the indexes are left out, a
warning is logged, and system check ``django_order_mail.W020`` says what
the database administrator runs (``docs/staff-guide.rst``). An index that
already exists - built beforehand with ``CREATE INDEX CONCURRENTLY`` on a
large log - is kept as it is.
"""

import logging

from django.db import migrations, models, router
from django.db.migrations.operations.base import Operation

logger = logging.getLogger("django_order_mail.outbox")

INDEXES = {
    "order_mail_recipient_trgm": "recipient",
    "order_mail_name_trgm": "customer_name",
}


def _index_exists(schema_editor, name):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None


def _trigram_allowed(schema_editor):
    """Whether pg_trgm is installed, or this user may install it."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone():
            return True
        cursor.execute(
            "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            " OR (v.trusted AND has_database_privilege(current_database(), 'CREATE'))"
            " FROM pg_available_extensions a JOIN pg_available_extension_versions v"
            " ON v.name = a.name AND v.version = a.default_version WHERE a.name = 'pg_trgm'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


class CreateTrigramSearchIndexes(Operation):
    """PostgreSQL only: pg_trgm where allowed, then the GIN indexes."""

    reversible = True
    reduces_to_sql = False

    def state_forwards(self, app_label, state):
        pass  # not in the model's state: the indexes exist on PostgreSQL only

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        model = to_state.apps.get_model(app_label, "OutboxEmail")
        if connection.vendor != "postgresql" or not router.allow_migrate_model(connection.alias, model):
            return
        if not _trigram_allowed(schema_editor):
            logger.warning(
                "pg_trgm is not installed and this database user may not install it: the send log's "
                "search by part of a name or address has no index (check django_order_mail.W020)."
            )
            return
        # Imported here: django.contrib.postgres needs psycopg, which a shop on
        # another database may not have.
        from django.contrib.postgres.operations import TrigramExtension

        TrigramExtension().database_forwards(app_label, schema_editor, from_state, to_state)
        quote = schema_editor.quote_name
        for name, column in INDEXES.items():
            if not _index_exists(schema_editor, name):
                # Written out rather than GinIndex(OpClass(Upper(column))):
                # Django renders OpClass around an expression correctly only
                # when django.contrib.postgres is in INSTALLED_APPS, which
                # the app does not ask of a shop.
                schema_editor.execute(
                    f"CREATE INDEX {quote(name)} ON {quote(model._meta.db_table)} "
                    f"USING gin (UPPER({quote(column)}) gin_trgm_ops)"
                )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        # The extension stays: other tables may use it.
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def describe(self):
        return "Create the send log's trigram search indexes (PostgreSQL only)"


class Migration(migrations.Migration):
    dependencies = [
        ("django_order_mail", "0002_data_request"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxemail",
            name="customer_name",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="customer name"),
        ),
        CreateTrigramSearchIndexes(),
    ]
