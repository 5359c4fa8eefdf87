"""Helpers of the abandoned-cart tests: carts with items, a fixed clock, a
coupon issuer for the incentive tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from django_order_mail.carts.scan import scan
from django_order_mail.outbox.models import OutboxEmail
from tests.testapp.models import Cart, CartItem

#: Every test's "now": a Monday, so week boundaries are predictable.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=dt_timezone.utc)

ITEMS = [("SWTR", "Fjord knit sweater", "129.00", 1, None), ("SOCK", "Merino socks", "19.90", 2, 3)]

_emails = itertools.count(1)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def make_cart(
    *,
    email: str | None = None,
    idle_since: datetime = T0,
    items=ITEMS,
    customer_name: str = "Tina",
    **fields,
) -> Cart:
    """A cart whose customer gave ``email`` and went quiet at ``idle_since``."""
    if email is None:
        email = f"shopper{next(_emails)}@example.com"
    cart = Cart.objects.create(
        email=email,
        email_captured_at=idle_since if email else None,
        last_activity_at=idle_since,
        customer_name=customer_name,
        **fields,
    )
    for sku, name, price, quantity, stock in items:
        CartItem.objects.create(
            cart=cart, sku=sku, name=name, price=Decimal(price), quantity=quantity, stock_left=stock
        )
    return cart


def reminders(cart=None) -> list[OutboxEmail]:
    """Abandoned-cart rows (of ``cart``), oldest first."""
    qs = OutboxEmail.objects.filter(event="abandoned_cart")
    if cart is not None:
        qs = qs.filter(content_type=ContentType.objects.get_for_model(cart), object_id=str(cart.pk))
    return list(qs.order_by("created_at", "id"))


def steps_of(cart) -> list[int]:
    return [row.extra["step"] for row in reminders(cart)]


def scan_at(when: datetime, **kwargs) -> dict[int, int]:
    return scan(now=when, **kwargs)


# -- a coupon issuer as a shop would write one ----------------------------------------

issued: list[dict] = []
_codes = itertools.count(1)


def issue_coupon(cart, *, step: int, recipient: str):
    """Unique single-use codes, remembered so tests can see what was issued."""
    code = f"COMEBACK-{next(_codes):04d}"
    issued.append({"code": code, "cart": cart.pk, "step": step, "recipient": recipient})
    return {"code": code, "description": "10 % off this cart", "expires_at": "2026-04-01"}


def declining_issuer(cart, *, step: int, recipient: str):
    return None


def broken_issuer(cart, *, step: int, recipient: str):
    raise RuntimeError("coupon service down")
