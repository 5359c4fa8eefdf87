"""One address compared case-insensitively (``recipient__iexact``) on
PostgreSQL: the B-tree on ``UPPER(recipient)`` of migration 0007 answers it,
not the search's trigram index (0.3-1.6 s per lookup at 10,000,000 rows in
``bench/growth.py``: the tracking app's attribution runs one per order)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from django_order_mail.data.core import emails_of
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres(services_ok, no_broker):
    assert connection.vendor == "postgresql"


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: ask which index it *can* use
        cursor.execute("EXPLAIN " + sql, params)
        text = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    return text


def test_an_address_is_found_in_any_case_through_its_btree():
    with transaction.atomic():
        [row] = enqueue(
            OrderFactory(email="Tina.Hansen@Fjordpost.no"), [PendingMail(MailEvent.ORDER_CONFIRMATION)]
        )
    assert list(emails_of("tina.hansen@fjordpost.NO")) == [row]
    lookup = OutboxEmail.objects.filter(
        recipient__iexact="TINA.HANSEN@FJORDPOST.NO", clicked_at__isnull=False
    )
    text = plan(lookup)
    assert "order_mail_recipient_ci_idx" in text
    assert "trgm" not in text
    assert "order_mail_recipient_ci_idx" in plan(emails_of("tina.hansen@fjordpost.no"))
