"""Mail events and the sales-channel rules that decide which of them are sent.

A *mail event* is one kind of customer email (order confirmation, shipping
confirmation, ...). The lifecycle decides which events a transition fires;
this module decides whether the order's sales channel lets the shop send it
(PRODUCT.md §3: Amazon already sends some emails itself, and a marketplace
customer must not get two confirmations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from .conf import get_setting


class MailEvent(models.TextChoices):
    ABANDONED_CART = "abandoned_cart", _("Abandoned cart")
    ORDER_CONFIRMATION = "order_confirmation", _("Order confirmation")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    ORDER_EDITED = "order_edited", _("Order edited")
    ORDER_ON_HOLD = "order_on_hold", _("Order on hold")
    SHIPPING_CONFIRMATION = "shipping_confirmation", _("Shipping confirmation")
    SHIPPING_UPDATE = "shipping_update", _("Shipping update")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    FEEDBACK_REQUEST = "feedback_request", _("Feedback request")
    CANCELLATION = "cancellation", _("Order cancelled")
    REFUND = "refund", _("Refund")
    # Staff mail: a customer gave a low satisfaction score (feedback package).
    LOW_SCORE_ALERT = "low_score_alert", _("Low score alert (staff)")


#: Commercial (marketing-ish) events: they honour unsubscribes and carry a
#: one-click unsubscribe. Everything else is transactional and always sent
#: unless the address hard-bounced.
COMMERCIAL_EVENTS = frozenset({MailEvent.ABANDONED_CART, MailEvent.FEEDBACK_REQUEST})

#: Events that are per shipment: their idempotency key includes the shipment.
SHIPMENT_EVENTS = frozenset(
    {
        MailEvent.SHIPPING_CONFIRMATION,
        MailEvent.SHIPPING_UPDATE,
        MailEvent.OUT_FOR_DELIVERY,
    }
)

#: Follow-up events written ahead of time (``send_after``). They no longer
#: apply once the order is cancelled, refunded, disputed or frozen
#: (PRODUCT.md §2.6), which is checked again right before sending.
FOLLOW_UP_EVENTS = frozenset({MailEvent.FEEDBACK_REQUEST})

#: Internal mail to the shop's staff, not to the customer: sent to the row's
#: own ``recipient`` (the support address), never subject to channel rules.
INTERNAL_EVENTS = frozenset({MailEvent.LOW_SCORE_ALERT})

ALL_EVENTS = frozenset(MailEvent.values)


@dataclass(frozen=True)
class ChannelRules:
    """What the shop itself sends for orders of one sales channel."""

    name: str
    events: frozenset[str] = field(default_factory=lambda: ALL_EVENTS)
    feedback_delay_days: int | None = None
    # Why events are left out; shown to staff in the send log.
    reason: str = ""

    def allows(self, event: str) -> bool:
        return event in self.events


#: The packaged channel rules. Projects add or override entries through
#: ``ORDER_MAIL["CHANNELS"]``.
DEFAULT_CHANNELS: dict[str, dict] = {
    "web": {},
    # Amazon sends confirmation and shipping emails for FBA orders; the
    # seller sends only the review / feedback request (PRODUCT.md §3).
    "amazon_fba": {
        "events": [MailEvent.FEEDBACK_REQUEST],
        "reason": "Amazon sends this email for FBA orders",
        # The feedback request is Amazon's review request: honest wording,
        # no incentive, marketplace links only, 5-30 days after delivery.
        "marketplace": True,
        "feedback": "review",
        "feedback_window_days": [5, 30],
    },
    # FBM: Amazon sends only the order-placed email.
    "amazon_fbm": {
        "events": [
            MailEvent.SHIPPING_CONFIRMATION,
            MailEvent.SHIPPING_UPDATE,
            MailEvent.OUT_FOR_DELIVERY,
            MailEvent.DELIVERED,
            MailEvent.FEEDBACK_REQUEST,
        ],
        "reason": "Amazon sends the order confirmation for FBM orders",
        "marketplace": True,
        "feedback": "review",
        "feedback_window_days": [5, 30],
    },
    # AliExpress notifies buyers of every status change itself; the seller
    # adds shipping details and the post-delivery follow-up.
    "aliexpress": {
        "events": [
            MailEvent.SHIPPING_CONFIRMATION,
            MailEvent.SHIPPING_UPDATE,
            MailEvent.DELIVERED,
            MailEvent.FEEDBACK_REQUEST,
        ],
        "reason": "AliExpress sends this status email to the buyer",
        "marketplace": True,
        "marketplace_name": "AliExpress",
    },
}


def channel_rules(channel: str | None) -> ChannelRules:
    """Rules for ``channel``; an unknown channel gets the default rules."""
    name = channel or get_setting("DEFAULT_CHANNEL")
    # A project's entry is merged key by key over the packaged one, so
    # {"amazon_fba": {"feedback_delay_days": 10}} keeps Amazon's event list.
    raw = {**DEFAULT_CHANNELS.get(name, {}), **(get_setting("CHANNELS").get(name) or {})}
    events = raw.get("events")
    return ChannelRules(
        name=name,
        events=frozenset(str(e) for e in events) if events is not None else ALL_EVENTS,
        feedback_delay_days=raw.get("feedback_delay_days"),
        reason=raw.get("reason", ""),
    )


def skip_reason(event: str, channel: str | None) -> str | None:
    """Why ``event`` is not sent for ``channel``, or None if it is sent."""
    if event in get_setting("DISABLED_EVENTS"):
        return "event disabled in ORDER_MAIL['DISABLED_EVENTS']"
    rules = channel_rules(channel)
    if not rules.allows(event):
        return f"channel {rules.name}: {rules.reason or 'event not sent on this channel'}"
    return None


def feedback_delay_days(channel: str | None) -> int:
    rules = channel_rules(channel)
    if rules.feedback_delay_days is not None:
        return rules.feedback_delay_days
    return get_setting("FEEDBACK_DELAY_DAYS")
