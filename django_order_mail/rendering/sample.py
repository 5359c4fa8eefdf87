"""A made-up order for the admin's template preview and template validation.

:class:`SampleOrder` answers every ``get_mail_*`` hook of
:class:`~django_order_mail.lifecycle.mixins.OrderMailContextMixin` with
plausible data, in memory (nothing is saved, no shop model is needed), so
staff can preview any email before the shop has a single real order and the
validator knows which variables each event's context has. The
abandoned-cart reminder is about a cart, not an order: :class:`SampleCart`
answers the cart hooks of
:class:`~django_order_mail.carts.mixins.AbandonedCartMixin` the same way.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext

from ..events import SHIPMENT_EVENTS, MailEvent, get_event
from ..lifecycle.shipments import Shipment
from .content_registry import text_fields
from .context import build_context
from .links import preview_language, preview_links


def sample_extra(event: str) -> dict:
    """What each event stores in ``extra`` when it is written: where the email
    gives a reason, a preset's code and a staff note (``lifecycle.reasons``).
    An email of a feature app or a shop says what its own ``extra`` holds
    with :func:`.content_registry.register_text_fields` (``sample_extra=``)."""
    note = gettext("Sorry for the trouble. Write to us any time if you have questions.")
    extras: dict[str, dict] = {
        MailEvent.CANCELLATION: {"reason_code": "out_of_stock", "note": note},
        MailEvent.REFUND: {"amount": Decimal("34.90"), "reason_code": "damaged", "note": note},
        MailEvent.PAYMENT_FAILED: {"reason_code": "card_declined", "note": note},
        MailEvent.ORDER_EDITED: {
            "changes": [gettext("Wool socks: size M → L")],
            "reason_code": "customer_request",
            "note": note,
        },
        MailEvent.ORDER_ON_HOLD: {"reason_code": "payment_verification", "note": note},
        MailEvent.SHIPPING_CONFIRMATION: {"partial_shipment": False},
    }
    if event in extras:
        return extras[event]
    registered = text_fields(event).sample_extra
    return dict(registered() or {}) if registered is not None else {}


class SampleCustomer:
    """The customer's hooks, shared by the sample order and a feature's own
    sample (the abandoned-cart app's sample cart)."""

    customer_name = ""
    channel = "web"

    def get_mail_recipient(self):
        return "tina@example.com"

    def get_mail_customer_name(self):
        return self.customer_name

    def get_mail_language(self):
        return ""

    def get_mail_channel(self):
        return self.channel


class SampleOrder(SampleCustomer):
    """An unsaved order with two items, addresses, card and delivery dates."""

    pk = None
    mail_state_field = "state"
    state = "awaiting_shipment"

    def __init__(self, *, number: str = "1001", customer_name: str = "Tina Hansen", channel: str = "web"):
        self.number = number
        self.customer_name = customer_name
        self.channel = channel
        self.created_at = timezone.now()

    def __str__(self):
        return gettext("Sample order %(number)s") % {"number": self.number}

    def get_mail_order_number(self):
        return self.number

    def get_mail_currency(self):
        return "EUR"

    def get_mail_order_date(self):
        return self.created_at

    def get_mail_line_items(self):
        return [
            {
                "name": gettext("Merino wool socks"),
                "sku": "SOCK-M-GREY",
                "variant": gettext("Grey, size M"),
                "quantity": 2,
                "unit_price": Decimal("12.50"),
                "total": Decimal("25.00"),
                "image_url": "",
                "url": "",
            },
            {
                "name": gettext("Enamel mug"),
                "sku": "MUG-01",
                "variant": "",
                "quantity": 1,
                "unit_price": Decimal("9.90"),
                "total": Decimal("9.90"),
                "image_url": "",
                "url": "",
            },
        ]

    def get_mail_totals(self):
        return {
            "subtotal": Decimal("34.90"),
            "discount": Decimal("3.00"),
            "shipping": Decimal("4.90"),
            "tax": Decimal("7.96"),
            "total": Decimal("44.76"),
        }

    def get_mail_addresses(self):
        lines = ["Tina Hansen", "Storgata 1", "0150 Oslo", "Norway"]
        return {"shipping": lines, "billing": lines}

    def get_mail_payment(self):
        return {"brand": "Visa", "last4": "4242"}

    def get_mail_shipping_method(self):
        return gettext("Standard (2–5 business days)")

    def get_mail_expected_dates(self):
        today = timezone.localdate()
        return {
            "ship_by": today + timedelta(days=1),
            "deliver_from": today + timedelta(days=3),
            "deliver_to": today + timedelta(days=6),
        }

    def get_mail_order_url(self):
        return "https://shop.example/orders/sample/"

    def get_mail_retry_payment_url(self):
        return "https://shop.example/orders/sample/pay/"

    def get_mail_extra_context(self, event):
        return {}


def sample_shipment() -> Shipment:
    """An unsaved parcel with a carrier, tracking number and delivery window."""
    today = timezone.localdate()
    return Shipment(
        carrier="dhl",
        tracking_number="JD014600003828",
        shipping_method=gettext("Standard"),
        items=[{"name": gettext("Merino wool socks"), "quantity": 2}],
        shipped_at=timezone.now(),
        estimated_delivery_from=today + timedelta(days=2),
        estimated_delivery_to=today + timedelta(days=4),
        delivery_instructions=gettext("Leave at the door if nobody answers."),
    )


def sample_context(event: str, *, channel: str = "web") -> dict:
    """The full context ``event`` would get for :class:`SampleOrder`, or for
    the sample its registration names (``register_event(sample=...)``: the
    abandoned-cart reminder's sample cart)."""
    registered = get_event(event)
    factory = registered.sample if registered is not None and registered.sample else SampleOrder
    order = factory(channel=channel)
    shipment = sample_shipment() if event in SHIPMENT_EVENTS else None
    # The links an email gets (feedback, unsubscribe, cart restore) are
    # preview links: they open the "test email, nothing was recorded" page.
    with preview_links(preview_language() or translation.get_language() or ""):
        context = build_context(order, event, shipment=shipment, extra=sample_extra(event), email_id=0)
    for rating in context.get("feedback_ratings") or []:
        rating.setdefault("label", "")  # only NPS scales label their ends
    if shipment is not None and not context.get("shipments"):
        context["shipments"] = [context["shipment"]]
    return context
