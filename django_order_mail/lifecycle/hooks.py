"""Reading an order's ``get_mail_*`` hooks where a broken hook must not stop anything.

A shop's hook can raise: a relation that is missing on an old order, a bug in
the shop's own code. Where the hook's answer is an extra - the revenue an
email or a cart reminder is credited with, whether an order crosses the
high-value threshold of a staff alert, the channel and language of a block of
recommendations - a broken hook is logged with its traceback and read as no
answer, so the order's transition, its emails and the other features go on.

Rendering an email does not come through here: a hook that raises while an
email is rendered marks that one email failed with the reason, for staff to
see in the send log (``docs/lifecycle.rst``, "Hooks").

The features (tracking, carts, notifications, recommendations) read the
order's total through :func:`order_total`, so an order is worth the same
amount to each of them.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

logger = logging.getLogger("django_order_mail.hooks")

__all__ = ["call_hook", "order_total", "to_amount"]

CENT = Decimal("0.01")


def call_hook(obj, name: str, default: Any = None) -> Any:
    """``obj.name()``; ``default`` if ``obj`` is None, has no such method,
    the method returns None, or it raises (logged)."""
    method = getattr(obj, name, None) if obj is not None else None
    if method is None:
        return default
    try:
        value = method()
    except Exception:
        logger.exception("%s() failed on %r", name, obj)
        return default
    return default if value is None else value


def to_amount(value) -> Decimal | None:
    """``value`` (a Decimal, a number or its text) as a finite amount to the
    cent; None for nothing, text that is not a number, NaN or infinity."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            return None
        return amount.quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


def order_total(order) -> tuple[Decimal | None, str]:
    """The order's total and its currency: ``get_mail_totals()["total"]``
    (the order's ``total`` attribute when the hook has none) to the cent, and
    ``get_mail_currency()`` (or its ``currency`` attribute) as an upper-case
    ISO 4217 code. ``(None, "")`` parts for what the order cannot tell."""
    totals = call_hook(order, "get_mail_totals", {})
    total = totals.get("total") if isinstance(totals, dict) else None
    if total in (None, "") and order is not None:
        total = getattr(order, "total", None)
    currency = call_hook(order, "get_mail_currency", "") or getattr(order, "currency", "") or ""
    return to_amount(total), str(currency).strip()[:3].upper()
