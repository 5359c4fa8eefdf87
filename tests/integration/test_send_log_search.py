"""The send log's search by part of a name or address on PostgreSQL: the
trigram indexes migration 0003 built, the plan that uses them, and what
happens without them (exact search only, check W020)."""

from __future__ import annotations

import pytest
from django.core import checks
from django.db import connection, transaction

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.outbox.search import INDEX_SQL, TRIGRAM_INDEXES, partial_search, search
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres(services_ok, no_broker):
    assert connection.vendor == "postgresql"


def email_of(**fields) -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(OrderFactory(**fields), [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    return row


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask which index it *can* use
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    return text


def test_the_migration_built_the_trigram_indexes_and_the_search_uses_them():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(TRIGRAM_INDEXES)]
        )
        found = dict(cursor.fetchall())
    assert set(found) == set(TRIGRAM_INDEXES)
    assert all("gin_trgm_ops" in definition and "upper(" in definition for definition in found.values())
    tina = email_of(customer_name="Tina Hansen", email="tina.h@fjordpost.no")
    email_of(customer_name="Ola Nordmann", email="ola@example.com")
    assert list(search(OutboxEmail.objects.all(), "hansen")) == [tina]
    assert list(search(OutboxEmail.objects.all(), "FJORDPOST")) == [tina]
    text = plan(search(OutboxEmail.objects.order_by(), "hansen"))
    assert "order_mail_recipient_trgm" in text and "order_mail_name_trgm" in text


def test_a_whole_address_is_looked_up_in_the_case_insensitive_b_tree():
    ola = email_of(customer_name="Ola Nordmann", email="Ola@Example.com")
    email_of(customer_name="Jo Ola", email="jo.ola@example.com")
    assert list(search(OutboxEmail.objects.all(), "ola@example.COM")) == [ola]
    text = plan(search(OutboxEmail.objects.order_by(), "ola@example.com"))
    assert "order_mail_recipient_ci_idx" in text and "trgm" not in text


def test_failed_emails_of_a_channel_or_event_are_read_from_the_small_partial_indexes():
    failed = OutboxEmail.objects.filter(status="failed")
    assert "order_mail_failed_channel_idx" in plan(failed.filter(channel="amazon_fbm"))
    assert "order_mail_failed_event_idx" in plan(failed.filter(event="refund"))
    assert "order_mail_failed" not in plan(OutboxEmail.objects.filter(status="sent", channel="amazon_fbm"))


def test_without_the_indexes_the_search_is_exact_only_and_w020_says_so():
    tina = email_of(customer_name="Tina Hansen", email="tina.h@fjordpost.no")
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX order_mail_name_trgm")
    try:
        assert partial_search() is False
        assert list(search(OutboxEmail.objects.all(), "hansen")) == []
        assert list(search(OutboxEmail.objects.all(), "tina.h@fjordpost.no")) == [tina]
        [warning] = [m for m in checks.run_checks(databases=["default"]) if m.id == "django_order_mail.W020"]
        assert (
            "order_mail_name_trgm" in warning.msg and "CREATE EXTENSION IF NOT EXISTS pg_trgm" in warning.hint
        )
    finally:
        with connection.cursor() as cursor:  # what the hint tells the administrator to run
            for statement in INDEX_SQL.split(";"):
                if statement.strip():
                    cursor.execute(statement)
    assert partial_search() is True
    assert list(search(OutboxEmail.objects.all(), "hansen")) == [tina]


@pytest.mark.django_db(transaction=False)  # all of it (role, extension, indexes) rolls back
def test_the_migration_leaves_the_indexes_out_where_the_user_may_not_create_pg_trgm(caplog):
    import importlib

    from django.db.migrations.executor import MigrationExecutor

    migration = importlib.import_module("django_order_mail.migrations.0003_send_log_search")
    operation = migration.CreateTrigramSearchIndexes()
    loader = MigrationExecutor(connection).loader
    before = loader.project_state(("django_order_mail", "0002_data_request"))
    after = loader.project_state(("django_order_mail", "0003_send_log_search"))
    table = OutboxEmail._meta.db_table
    with connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("DROP EXTENSION pg_trgm")
        cursor.execute("CREATE ROLE order_mail_app NOSUPERUSER")
        cursor.execute(f"ALTER TABLE {table} OWNER TO order_mail_app")
        cursor.execute("SET ROLE order_mail_app")  # owns the table, may not create in the database
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("django_order_mail", editor, before, after)
    assert "may not install it" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("RESET ROLE")
        cursor.execute(f"GRANT CREATE ON DATABASE {connection.settings_dict['NAME']} TO order_mail_app")
        cursor.execute("GRANT CREATE ON SCHEMA public TO order_mail_app")  # as the database owner has
        cursor.execute("SET ROLE order_mail_app")  # now allowed: pg_trgm is a trusted extension
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("django_order_mail", editor, before, after)
    assert partial_search() is True
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
