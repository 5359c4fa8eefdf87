"""Build the template context of one email from the order's hooks.

The context is plain data (dicts, lists, strings, Decimals) gathered from
the order's ``get_mail_*`` hooks, plus ``order`` itself for templates that
need a field the hooks do not cover.
``docs/templates.rst`` lists every variable.
"""

from __future__ import annotations

import re

from ..events import COMMERCIAL_EVENTS
from ..lifecycle.shipments import Shipment
from ..tracking.links import unsubscribe_url
from .branding import get_branding


def _call(order, name, *args, default=None):
    method = getattr(order, name, None)
    if method is None:
        return default
    value = method(*args)
    return default if value is None else value


def safe_payment(payment: dict | None) -> dict:
    """Brand and the last four digits only, whatever the shop handed us."""
    payment = dict(payment or {})
    digits = re.sub(r"\D", "", str(payment.get("last4", "") or ""))
    return {"brand": str(payment.get("brand", "") or ""), "last4": digits[-4:]}


def shipment_context(shipment: Shipment | None) -> dict | None:
    if shipment is None:
        return None
    return {
        "id": shipment.pk,
        "carrier": shipment.carrier,
        "carrier_name": shipment.carrier_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.get_tracking_url(),
        "shipping_method": shipment.shipping_method,
        "items": shipment.items or [],
        "shipped_at": shipment.shipped_at,
        "estimated_delivery_from": shipment.estimated_delivery_from,
        "estimated_delivery_to": shipment.estimated_delivery_to,
        "delivered_at": shipment.delivered_at,
        "delivery_instructions": shipment.delivery_instructions,
    }


def build_context(order, event: str, *, shipment=None, extra=None, email_id=None) -> dict:
    if event == "abandoned_cart":  # a cart, not an order: its own context (carts/context.py)
        from ..carts.context import build_cart_context

        return build_cart_context(order, extra=extra, email_id=email_id)
    items = list(_call(order, "get_mail_line_items", default=[]))
    shipments = [shipment_context(s) for s in Shipment.list_for_order(order)] if order.pk else []
    context = {
        "event": event,
        "order": order,
        "order_number": _call(order, "get_mail_order_number", default=str(order.pk)),
        "customer_name": _call(order, "get_mail_customer_name", default=""),
        "recipient": _call(order, "get_mail_recipient", default=""),
        "channel": _call(order, "get_mail_channel", default=""),
        "currency": _call(order, "get_mail_currency", default=""),
        "items": items,
        "totals": _call(order, "get_mail_totals", default={}),
        "addresses": _call(order, "get_mail_addresses", default={}),
        "payment": safe_payment(_call(order, "get_mail_payment", default={})),
        "shipping_method": _call(order, "get_mail_shipping_method", default=""),
        "expected": _call(order, "get_mail_expected_dates", default={}),
        "order_url": _call(order, "get_mail_order_url", default=""),
        "retry_payment_url": _call(order, "get_mail_retry_payment_url", default=""),
        "shipment": shipment_context(shipment),
        "shipments": shipments,
        "shop": get_branding(),
        "extra": dict(extra or {}),
        "feedback_url": "",
        "feedback_ratings": [],
        "unsubscribe_url": "",
    }
    if email_id is not None and event in COMMERCIAL_EVENTS:
        # Opens the confirmation page; the one-click POST is in the header.
        context["unsubscribe_url"] = unsubscribe_url(email_id)
    if event in ("feedback_request", "low_score_alert"):
        # Rating links, review links and the alert's response: feedback package.
        from ..feedback.context import feedback_context

        number = context["order_number"]
        context.update(
            feedback_context(order, event, email_id=email_id, extra=extra, items=items, order_number=number)
        )
    context.update(_call(order, "get_mail_extra_context", event, default={}))
    return context
