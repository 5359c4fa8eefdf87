"""Mail events and the sales-channel rules that decide which of them are sent.

A *mail event* is one kind of email (order confirmation, shipping
confirmation, ...). Every event, built-in or a shop's own, is registered
with :func:`register_event` (``docs/events.rst``): its label, whether it is
commercial, per shipment, internal or a follow-up, and which transitions
fire it. The lifecycle decides which events a transition fires; this module
also decides whether the order's sales channel lets the shop send it
(``docs/marketplaces.rst``: Amazon already sends some emails itself, and a
marketplace customer must not get two confirmations).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .app_settings import app_settings


class MailEvent(models.TextChoices):
    """The order-lifecycle emails the core sends on its own. Feature apps
    register theirs (``abandoned_cart``, ``feedback_request``,
    ``low_score_alert``) with :func:`register_event`, as a shop does."""

    ORDER_CONFIRMATION = "order_confirmation", _("Order confirmation")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    ORDER_EDITED = "order_edited", _("Order edited")
    ORDER_ON_HOLD = "order_on_hold", _("Order on hold")
    SHIPPING_CONFIRMATION = "shipping_confirmation", _("Shipping confirmation")
    SHIPPING_UPDATE = "shipping_update", _("Shipping update")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    CANCELLATION = "cancellation", _("Order cancelled")
    REFUND = "refund", _("Refund")


class StaffEvent(models.TextChoices):
    """The staff notifications the core writes on its own: internal events
    (mail to the shop's staff, never to the customer) fired by the
    transition that makes an order a new, paid order (``confirm_payment``,
    the one that also writes the order confirmation). Nobody gets them until
    staff switch them on with recipients in the admin
    (:mod:`django_order_mail.notifications`, ``docs/staff-guide.rst``)."""

    NEW_ORDER = "new_order", _("New order (staff)")
    HIGH_VALUE_ORDER = "high_value_order", _("High-value order (staff)")


#: The transition that makes an order a new order for staff: payment
#: confirmed, the order now waits to be shipped (``docs/lifecycle.rst``).
NEW_ORDER_TRANSITIONS = ("confirm_payment",)


@dataclass(frozen=True)
class EventType:
    """One kind of email, as the registry knows it (``docs/events.rst``).

    ``commercial``: marketing-ish (abandoned cart, review request): honours
    unsubscribes and complaints, carries a one-click unsubscribe and counts
    against the frequency cap; everything else is transactional.
    ``per_shipment``: one email per parcel (the shipment is part of the
    idempotency key). ``internal``: mail to the shop's staff, never to the
    customer and never under channel rules. ``follow_up``: written ahead of
    time and dropped if the order is cancelled, refunded, disputed or frozen
    before it is due. ``transitions``: names of the order model's
    transitions that write this email (besides the model's own
    ``mail_transitions``).
    """

    name: str
    label: Any
    commercial: bool = False
    per_shipment: bool = False
    internal: bool = False
    follow_up: bool = False
    transitions: tuple[str, ...] = ()
    delay: Callable[[Any], timedelta] | None = None
    description: Any = None
    sample: Callable[..., Any] | None = None


_registry: dict[str, EventType] = {}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def register_event(
    name: str,
    label,
    *,
    commercial: bool = False,
    per_shipment: bool = False,
    internal: bool = False,
    follow_up: bool = False,
    transitions: tuple[str, ...] | list[str] = (),
    delay: Callable[[Any], timedelta] | None = None,
    description=None,
    sample: Callable[..., Any] | None = None,
) -> EventType:
    """Register a kind of email; the built-in ones are registered the same
    way. Call it from your app config's ``ready()``. The email's template is
    ``django_order_mail/email/<name>.email`` in your templates (``docs/events.rst``).

    The arguments are the fields of :class:`EventType`: ``commercial``,
    ``per_shipment``, ``internal``, ``follow_up``, ``transitions``; ``delay``
    (a follow-up's ``delay(order) -> timedelta`` after the transition, as
    the feedback request's), ``description`` (the customer's words for a
    commercial email on the preferences page) and ``sample`` (what staff
    previews render with instead of the sample order, as the abandoned-cart
    reminder's sample cart).

    Registering the same name again with the same definition is a no-op;
    with another definition it is an error (two apps disagreeing).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"event name {name!r}: lower-case letters, digits and _, at most 40 characters")
    if delay is not None and not follow_up:
        raise ValueError(f"event {name!r}: only a follow-up event has a delay")
    if internal and commercial:
        # Staff mail must never be capped or stopped by a customer's unsubscribe.
        raise ValueError(f"event {name!r}: an internal (staff) event cannot be commercial")
    event = EventType(
        name=str(name),
        label=label,
        commercial=commercial,
        per_shipment=per_shipment,
        internal=internal,
        follow_up=follow_up,
        transitions=tuple(str(t) for t in transitions),
        delay=delay,
        description=description,
        sample=sample,
    )
    known = _registry.get(event.name)
    if known is not None and known != event:
        raise ValueError(f"event {name!r} is already registered differently: {known}")
    _registry[event.name] = event
    return event


def get_event(name: str) -> EventType | None:
    return _registry.get(str(name))


def registered_events() -> list[EventType]:
    """Every registered event, built-in ones first, in registration order."""
    return list(_registry.values())


def event_choices() -> list[tuple[str, Any]]:
    """``(name, label)`` of every registered event: the ``choices`` of the
    models' ``event`` fields (a callable, so registering an event needs no
    migration)."""
    return [(e.name, e.label) for e in _registry.values()]


def events_fired_by(transition: str) -> tuple[str, ...]:
    """The registered events whose ``transitions`` name ``transition``."""
    return tuple(e.name for e in _registry.values() if transition in e.transitions)


class _EventSet(AbstractSet[str]):
    """The registered events with one property, read live from the registry
    (so an event a shop registers later is in it)."""

    def __init__(self, test: Callable[[EventType], bool]):
        self._test = test

    def __contains__(self, name) -> bool:
        event = _registry.get(str(name)) if name is not None else None
        return event is not None and self._test(event)

    def __iter__(self) -> Iterator[str]:
        return iter([e.name for e in _registry.values() if self._test(e)])

    def __len__(self) -> int:
        return sum(1 for e in _registry.values() if self._test(e))

    def __repr__(self) -> str:
        return f"<events {sorted(self)}>"


#: Commercial (marketing-ish) events: they honour unsubscribes and carry a
#: one-click unsubscribe. Everything else is transactional and always sent
#: unless the address hard-bounced.
COMMERCIAL_EVENTS = _EventSet(lambda e: e.commercial)
#: Events that are per shipment: their idempotency key includes the shipment.
SHIPMENT_EVENTS = _EventSet(lambda e: e.per_shipment)
#: Follow-up events written ahead of time (``send_after``). They no longer
#: apply once the order is cancelled, refunded, disputed or frozen, which is
#: checked again right before sending.
FOLLOW_UP_EVENTS = _EventSet(lambda e: e.follow_up)
#: Internal mail to the shop's staff, not to the customer: sent to the row's
#: own ``recipient`` (a staff address, :mod:`django_order_mail.notifications`),
#: never subject to channel rules, never commercial (no frequency cap, no
#: unsubscribe), written in the shop's ``LANGUAGE_CODE``.
INTERNAL_EVENTS = _EventSet(lambda e: e.internal)
ALL_EVENTS = _EventSet(lambda e: True)

for _event in MailEvent:
    register_event(
        _event.value,
        _event.label,
        per_shipment=_event
        in (MailEvent.SHIPPING_CONFIRMATION, MailEvent.SHIPPING_UPDATE, MailEvent.OUT_FOR_DELIVERY),
    )
for _staff in StaffEvent:
    register_event(_staff.value, _staff.label, internal=True, transitions=NEW_ORDER_TRANSITIONS)


@dataclass(frozen=True)
class ChannelRules:
    """What the shop itself sends for orders of one sales channel."""

    name: str
    # A frozenset from the settings, or the live set of every registered event.
    events: AbstractSet[str] = field(default_factory=lambda: ALL_EVENTS)
    # Why events are left out; shown to staff in the send log.
    reason: str = ""
    #: Every key of the channel's entry, merged; feature apps read their
    #: own options here (``feedback_delay_days``, ``marketplace``...).
    options: dict = field(default_factory=dict)

    def allows(self, event: str) -> bool:
        return event in self.events


#: The packaged channel rules. Projects add or override entries through
#: ``ORDER_MAIL["CHANNELS"]``.
DEFAULT_CHANNELS: dict[str, dict] = {
    "web": {},
    # Amazon sends confirmation and shipping emails for FBA orders; the
    # seller sends only the review / feedback request (``docs/marketplaces.rst``).
    "amazon_fba": {
        "events": ["feedback_request"],
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
            "feedback_request",
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
            "feedback_request",
        ],
        "reason": "AliExpress sends this status email to the buyer",
        "marketplace": True,
        "marketplace_name": "AliExpress",
    },
}


def channel_rules(channel: str | None) -> ChannelRules:
    """Rules for ``channel``; an unknown channel gets the default rules."""
    name = channel or app_settings.DEFAULT_CHANNEL
    # A project's entry is merged key by key over the packaged one, so
    # {"amazon_fba": {"feedback_delay_days": 10}} keeps Amazon's event list.
    raw = {**DEFAULT_CHANNELS.get(name, {}), **(app_settings.CHANNELS.get(name) or {})}
    events = raw.get("events")
    return ChannelRules(
        name=name,
        events=frozenset(str(e) for e in events) if events is not None else ALL_EVENTS,
        reason=raw.get("reason", ""),
        options=raw,
    )


def skip_reason(event: str, channel: str | None) -> str | None:
    """Why ``event`` is not sent for ``channel``, or None if it is sent."""
    if event in app_settings.DISABLED_EVENTS:
        return "event disabled in ORDER_MAIL['DISABLED_EVENTS']"
    if event in INTERNAL_EVENTS:
        # Channel rules say what a marketplace already tells its buyer; staff
        # want to hear of an Amazon FBA order as of any other.
        return None
    rules = channel_rules(channel)
    if not rules.allows(event):
        return f"channel {rules.name}: {rules.reason or 'event not sent on this channel'}"
    return None
