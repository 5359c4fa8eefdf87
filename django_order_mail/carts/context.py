"""The template context of an abandoned-cart reminder.

The carts feature registers :func:`build_cart_context` as the builder of
the ``abandoned_cart`` event (``rendering.context.register_context_builder``):
a cart is not an order (no order number, totals, addresses or shipments). The
context is plain data from the cart's hooks; ``docs/abandoned-cart.rst``
lists every variable.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from django.utils.dateparse import parse_date, parse_datetime

from ..rendering.branding import get_branding
from .app_settings import app_settings
from .events import ABANDONED_CART
from .links import restore_url

logger = logging.getLogger("django_order_mail.carts")


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def cart_items(cart) -> list[dict]:
    """The cart's items with ``total`` and ``low_stock`` worked out."""
    threshold = app_settings.ABANDONED_CART_LOW_STOCK_THRESHOLD
    items = []
    for raw in cart.get_cart_items():
        price = _decimal(raw.get("price"))
        quantity = int(raw.get("quantity") or 1)
        item = {
            **raw,
            "name": str(raw.get("name") or ""),
            "price": price,
            "unit_price": price,
            "quantity": quantity,
            "total": price * quantity if price is not None else None,
            "image_url": raw.get("image_url") or "",
            "url": raw.get("url") or "",
            "variant": raw.get("variant") or "",
            "low_stock": None,
        }
        if threshold is not None:
            try:
                left = cart.get_cart_stock_left(raw)
            except Exception:
                logger.exception("get_cart_stock_left() failed on %r", cart)
                left = None
            if left is not None and 0 < left <= threshold:
                item["low_stock"] = left
        items.append(item)
    return items


def build_cart_context(cart, *, extra=None, email_id=None) -> dict:
    extra = dict(extra or {})
    items = cart_items(cart)
    step = int(extra.get("step") or 1)
    steps = int(extra.get("steps") or _configured_step_count() or step)
    coupon = extra.get("coupon") if isinstance(extra.get("coupon"), dict) else None
    if coupon:
        expires = str(coupon.get("expires_at") or "")
        coupon = {**coupon, "expires": (parse_datetime(expires) or parse_date(expires)) if expires else None}
    context = {
        "event": ABANDONED_CART,
        "cart": cart,
        "order_number": "",
        "customer_name": cart.get_mail_customer_name(),
        "recipient": cart.get_mail_recipient(),
        "channel": cart.get_mail_channel(),
        "currency": cart.get_cart_currency(),
        "items": items,
        "item_count": sum(item["quantity"] for item in items),
        # The preview text's "<first item> is still in your cart", as a
        # variable staff can use in a text field (items is a list).
        "first_item": items[0]["name"] if items else "",
        "cart_total": cart.get_cart_total(),
        "low_stock": any(item["low_stock"] for item in items),
        # The one call to action: signed, expiring, lands on checkout. A
        # preview (no outbox row yet) links to the checkout page itself.
        "restore_url": restore_url(email_id) if email_id is not None else cart.get_checkout_url(),
        "step": step,
        "steps": steps,
        "is_last_step": step >= steps,
        "coupon": coupon,
        "shop": get_branding(),
        "extra": extra,
    }
    return context


def _configured_step_count() -> int:
    """The number of the sequence's last step that is on (a preview's "1 of N")."""
    from .sequence import configured_steps, last_step_number

    try:
        return last_step_number(configured_steps())
    except ValueError:  # a broken ABANDONED_CART_STEPS (check E401 says so)
        return 0
