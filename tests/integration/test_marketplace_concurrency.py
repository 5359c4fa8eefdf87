"""Two marketplace syncs of the same feed at once, on PostgreSQL row locks:
nothing is applied twice and no email is doubled (moved here from the
SQLite unit suite, which has no row locks to test)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from django_order_mail.events import MailEvent
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.marketplaces.models import MarketplaceOrderUpdate
from tests.marketplaces.helpers import mail, marketplace_settings  # noqa: F401
from tests.marketplaces.test_sync import C, sync
from tests.testapp.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("marketplace_settings")]


def test_two_syncs_of_the_same_feed_at_once_double_nothing():
    barrier = threading.Barrier(2)
    summaries, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=10)
            summaries.append(sync())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sum(s.applied for s in summaries) == 7
    assert sum(s.failed for s in summaries) == 0
    assert MarketplaceOrderUpdate.objects.count() == 8  # distinct items of the feed
    assert Shipment.objects.count() == 3
    c = Order.objects.get(number=C)
    assert c.state == "completed"
    assert len(mail(c)[MailEvent.SHIPPING_CONFIRMATION]) == 2
