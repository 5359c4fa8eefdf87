"""Build the template context of one email from the order's hooks.

The context is plain data (dicts, lists, strings, Decimals) gathered from
the order's ``get_mail_*`` hooks, plus ``order`` itself for templates that
need a field the hooks do not cover. ``docs/templates.rst`` lists every
variable.

Features add to it without the core importing them (``docs/signals.rst``):
an event whose object is not an order (the abandoned-cart reminder) has a
builder of its own (:func:`register_context_builder`), and receivers of
:data:`~django_order_mail.signals.collect_context` add their variables
(rating links, the unsubscribe link). The order's own
``get_mail_extra_context(event)`` comes last and wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..lifecycle.shipments import Shipment
from ..signals import collect_context
from .branding import get_branding
from .promotional import clean_slots


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


#: Keys the packaged templates read from the hooks' dicts, each with the
#: value a missing key renders as. Filled in so no lookup in a template
#: fails: a failed lookup is the slowest path of Django's template engine
#: (it calls ``dir()`` on the object to tell a missing key from a broken
#: property), about 14 of them per email before (``docs/performance.md``).
ITEM_DEFAULTS = {
    "name": "",
    "variant": "",
    "quantity": "",
    "unit_price": None,
    "total": None,
    "image_url": "",
    "url": "",
}
TOTALS_DEFAULTS = {"subtotal": None, "discount": None, "shipping": None, "tax": None, "total": None}
EXPECTED_DEFAULTS = {"ship_by": None, "deliver_from": None, "deliver_to": None}
ADDRESSES_DEFAULTS: dict = {"shipping": [], "billing": []}
#: What an event may store in ``extra`` (a transition's arguments): the
#: reason presets' code and note, a refund's amount, a partial shipment...
EXTRA_DEFAULTS: dict = {
    "reason_code": "",
    "reason": "",
    "note": "",
    "amount": None,
    "changes": [],
    "partial_shipment": False,
}


def with_defaults(value, defaults: dict) -> dict:
    """``value`` (a hook's dict) over ``defaults``; anything else unchanged."""
    return {**defaults, **value} if isinstance(value, dict) else value


def parcel_items(lines, order_items: list[dict] | None = None) -> list:
    """A parcel's lines (``Shipment.items``: name, quantity, sku) with what
    the order's matching line item adds: its image, variant and product page.

    A parcel line names its product by ``product_id``, ``sku`` or ``name``
    and is matched to the order's line items by the first of these both
    have, so a parcel of a partial shipment shows the same pictures as the
    order confirmation. The parcel's own keys (its quantity) win.
    """
    keyed: dict[tuple[str, str], dict] = {}
    for item in order_items or []:
        if isinstance(item, dict):
            for key in ("product_id", "sku", "name"):
                value = item.get(key)
                if value not in (None, ""):
                    keyed.setdefault((key, str(value)), item)
    result = []
    for line in lines or []:
        if not isinstance(line, dict):
            result.append(line)
            continue
        match = next(
            (
                keyed[(key, str(line[key]))]
                for key in ("product_id", "sku", "name")
                if line.get(key) not in (None, "") and (key, str(line[key])) in keyed
            ),
            None,
        )
        extra = {k: match[k] for k in ("image_url", "variant", "url") if match and match.get(k)}
        result.append(
            with_defaults({**extra, **{k: v for k, v in line.items() if v not in (None, "")}}, ITEM_DEFAULTS)
        )
    return result


def shipment_context(shipment: Shipment | None, order_items: list[dict] | None = None) -> dict | None:
    """A parcel's template variables; ``order_items`` (the order's line
    items) give its lines their pictures (:func:`parcel_items`)."""
    if shipment is None:
        return None
    return {
        "id": shipment.pk,
        "carrier": shipment.carrier,
        "carrier_name": shipment.carrier_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.get_tracking_url(),
        "shipping_method": shipment.shipping_method,
        "items": parcel_items(shipment.items or [], order_items),
        "shipped_at": shipment.shipped_at,
        "estimated_delivery_from": shipment.estimated_delivery_from,
        "estimated_delivery_to": shipment.estimated_delivery_to,
        "delivered_at": shipment.delivered_at,
        "delivery_instructions": shipment.delivery_instructions,
    }


#: event -> builder(obj, *, extra, email_id) of events that are not about an order.
_builders: dict[str, Callable[..., dict]] = {}


def register_context_builder(event: str, builder: Callable[..., dict]) -> None:
    """Build ``event``'s context with ``builder(obj, extra=..., email_id=...)``
    instead of the order context (a feature whose emails are about another
    object, such as a cart). Registered by the feature's app config."""
    _builders[str(event)] = builder


def build_context(order, event: str, *, shipment=None, extra=None, email_id=None) -> dict:
    """The context of ``event`` for ``order`` (``email_id``: the outbox row,
    None for a preview of an email not written yet)."""
    builder = _builders.get(event)
    if builder is not None:
        context = builder(order, extra=extra, email_id=email_id)
    else:
        context = order_context(order, event, shipment=shipment, extra=extra)
    context.setdefault("unsubscribe_url", "")
    collect_context.send(
        sender=type(order), event=event, order=order, context=context, email_id=email_id, extra=extra
    )
    context.update(_call(order, "get_mail_extra_context", event, default={}))
    clean_slots(context)  # whoever filled them: http(s) links and one-line names only
    return context


def order_context(order, event: str, *, shipment=None, extra=None) -> dict:
    """The variables every order email has, from the order's hooks."""
    items = [with_defaults(item, ITEM_DEFAULTS) for item in _call(order, "get_mail_line_items", default=[])]
    shipments = [shipment_context(s, items) for s in Shipment.list_for_order(order)] if order.pk else []
    return {
        "event": event,
        "order": order,
        "order_number": _call(order, "get_mail_order_number", default=str(order.pk)),
        "order_date": _call(order, "get_mail_order_date", default=None),
        "customer_name": _call(order, "get_mail_customer_name", default=""),
        "recipient": _call(order, "get_mail_recipient", default=""),
        "channel": _call(order, "get_mail_channel", default=""),
        "currency": _call(order, "get_mail_currency", default=""),
        "items": items,
        "totals": with_defaults(_call(order, "get_mail_totals", default={}), TOTALS_DEFAULTS),
        "addresses": with_defaults(_call(order, "get_mail_addresses", default={}), ADDRESSES_DEFAULTS),
        "payment": safe_payment(_call(order, "get_mail_payment", default={})),
        "shipping_method": _call(order, "get_mail_shipping_method", default=""),
        "expected": with_defaults(_call(order, "get_mail_expected_dates", default={}), EXPECTED_DEFAULTS),
        "order_url": _call(order, "get_mail_order_url", default=""),
        "retry_payment_url": _call(order, "get_mail_retry_payment_url", default=""),
        "shipment": shipment_context(shipment, items),
        "shipments": shipments,
        "shop": get_branding(),
        "extra": with_defaults(dict(extra or {}), EXTRA_DEFAULTS),
        # Filled by the feedback feature for its emails (collect_context).
        "feedback_url": "",
        "feedback_ratings": [],
        # The promotional slots (rendering.promotional): filled by a receiver
        # of collect_context (the recommendations app, a shop's own), marked
        # promotional by their partials, trimmed by the sender to stay under
        # PROMOTIONAL_SHARE_MAX.
        "recommended_products": [],
        "referral": None,
    }
