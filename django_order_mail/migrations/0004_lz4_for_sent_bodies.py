"""Compress the stored bodies with LZ4 on PostgreSQL 14+.

Every sent email stores its subject and both bodies (what the customer got,
for the send log), written in the statement that records the send, one
email at a time. PostgreSQL compresses such values with pglz by default;
LZ4 compresses them several times faster for a slightly larger result,
which took about a fifth off recording a send in ``bench/`` (see
``docs/performance.md``). Only new values are written with LZ4; existing
rows are left as they are. Databases other than PostgreSQL, versions before
14 and builds without LZ4 support keep their default.
"""

from django.db import DatabaseError, migrations, transaction


def _alter_compression(apps, schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    table = schema_editor.quote_name(apps.get_model("django_order_mail", "OutboxEmail")._meta.db_table)
    schema_editor.execute(
        f"ALTER TABLE {table} ALTER COLUMN body_html SET COMPRESSION {method}, "
        f"ALTER COLUMN body_text SET COMPRESSION {method}"
    )


def use_lz4(apps, schema_editor):
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            _alter_compression(apps, schema_editor, "lz4")
    except DatabaseError:  # built without LZ4 ("compression method lz4 not supported")
        pass


def use_default(apps, schema_editor):
    _alter_compression(apps, schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [("django_order_mail", "0003_slimmer_outbox_indexes")]

    operations = [migrations.RunPython(use_lz4, use_default, elidable=True)]
