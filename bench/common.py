"""Shared pieces of the benchmarks: bench orders, transitions, statistics."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from django.db import transaction
from django.test import override_settings

LINES = [("Wool socks", 2, Decimal("12.50")), ("Mug", 1, Decimal("9.90")), ("Scarf", 1, Decimal("29.00"))]


def make_orders(prefix: str, n: int) -> list:
    """``n`` unpaid orders (three lines each), numbers ``<prefix>000001`` on."""
    from tests.testapp.models import Order, OrderLine

    orders = [
        Order(
            number=f"{prefix}{i:06d}",
            email=f"customer{i}@example.com",
            customer_name=f"Customer {i}",
            language="en",
        )
        for i in range(1, n + 1)
    ]
    created = []
    for start in range(0, n, 2000):
        chunk = Order.objects.bulk_create(orders[start : start + 2000])
        OrderLine.objects.bulk_create(
            [
                OrderLine(order=o, name=name, quantity=qty, unit_price=price)
                for o in chunk
                for name, qty, price in LINES
            ]
        )
        created.extend(chunk)
    return created


def mail_enabled(enabled: bool):
    """``override_settings`` with ORDER_MAIL["ENABLED"] switched."""
    from django.conf import settings

    return override_settings(ORDER_MAIL={**settings.ORDER_MAIL, "ENABLED": enabled})


def confirm(order, stamps: dict | None = None, extra=None) -> None:
    """Move ``order`` to awaiting_shipment in one transaction (what a shop's
    payment webhook does); record the commit time in ``stamps[number]``.

    The stamp is the first on-commit callback, so it is taken right after
    COMMIT, before publishing to the broker. ``extra(order)`` runs inside the
    transaction (the django-post-office run queues its email there).
    """
    with transaction.atomic():
        if stamps is not None:
            number = order.number
            transaction.on_commit(lambda: stamps.__setitem__(number, time.time()))
        order.confirm_payment()
        order.save()
        if extra is not None:
            extra(order)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else float("nan"),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values) if values else float("nan"),
    }
