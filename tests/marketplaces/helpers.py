"""Shared pieces of the marketplace tests: the shop's resolver, page sources,
fixture loading. (No tests here; imported by the modules of tests/marketplaces/
and tests/integration/test_marketplace_concurrency.py.)

The resolver is what a shop writes: find the order by the marketplace id or
create it from the payload, on the marketplace's sales channel.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_order_mail.marketplaces.aliexpress import AliExpressAdapter
from django_order_mail.marketplaces.base import ShipmentData
from django_order_mail.marketplaces.models import MarketplaceOrderUpdate
from django_order_mail.outbox.models import OutboxEmail
from tests.testapp.models import Order, OrderLine

FIXTURES = Path(__file__).parent.parent / "fixtures" / "aliexpress"

#: Marketplace order ids the test resolver refuses (returns None for).
NOT_OURS: set[str] = set()
#: Marketplace order ids the test resolver raises for (a broken shop hook).
BROKEN: set[str] = set()
#: Calls of the page source: the ``since`` each run received.
SOURCE_CALLS: list = []


def resolve_order(update):
    if update.external_id in NOT_OURS:
        return None
    if update.external_id in BROKEN:
        raise RuntimeError("shop database unavailable")
    order, created = Order.objects.get_or_create(
        number=update.external_id[:20],
        defaults={
            "email": f"buyer{update.external_id[-4:]}@example.com",
            "customer_name": "Marketplace buyer",
            "sales_channel": update.channel or "web",
            "currency": update.currency or "USD",
        },
    )
    if created:
        for line in update.line_items:
            OrderLine.objects.create(
                order=order,
                name=line["name"][:100] or "item",
                quantity=line["quantity"],
                unit_price=line["unit_price"] if line["unit_price"] is not None else 0,
            )
    return order


def resolve_as_web_order(update):
    """A resolver that forgets the sales channel (the sync warns about it)."""
    order, _ = Order.objects.get_or_create(
        number=update.external_id[:20], defaults={"email": "web@example.com", "sales_channel": "web"}
    )
    return order


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seed_pages(since=None):
    """A page source as a shop writes it around its API client: yields the
    answers of aliexpress.solution.order.get, page by page."""
    SOURCE_CALLS.append(since)
    yield load("seed_page1.json")
    yield load("seed_page2.json")


def lifecycle_pages(since=None):
    SOURCE_CALLS.append(since)
    yield from load("lifecycle_pages.json")


def failing_pages():
    """An API client that dies after the first page (no ``since`` argument)."""
    yield load("seed_page1.json")
    raise ConnectionError("AliExpress gateway timed out")


def log_rows(**filters):
    return list(MarketplaceOrderUpdate.objects.filter(**filters).order_by("id"))


def mail(order) -> dict[str, list[tuple[str, str]]]:
    """The order's outbox as {event: [(status, last_error), ...]}."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for row in OutboxEmail.for_order(order).order_by("id"):
        rows.setdefault(row.event, []).append((row.status, row.last_error))
    return rows


@pytest.fixture
def marketplace_settings(mail_settings, no_broker):
    mail_settings(MARKETPLACE_ORDER_RESOLVER="tests.marketplaces.helpers.resolve_order")
    NOT_OURS.clear()
    BROKEN.clear()
    SOURCE_CALLS.clear()
    yield mail_settings
    NOT_OURS.clear()
    BROKEN.clear()
    SOURCE_CALLS.clear()


class ExplodingShipments:
    """Adapter mixin whose shipment hook fails for one tracking number."""

    def build_shipment(self, order, data: ShipmentData):
        if data.tracking_number == "RB123456789CN":
            raise ValueError("carrier RB not configured")
        return super().build_shipment(order, data)


class ExplodingAliExpress(ExplodingShipments, AliExpressAdapter):
    pass
