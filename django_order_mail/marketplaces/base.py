"""The adapter interface: from one marketplace's feed to neutral updates.

An adapter knows one marketplace's payloads. It turns each page of a feed
into items (:meth:`BaseAdapter.iter_items`), each item into a
:class:`MarketplaceUpdate` (:meth:`BaseAdapter.parse`) and each update into
the lifecycle state the order should reach (:meth:`BaseAdapter.target_state`).
Everything after that - walking the order's state machine, idempotency,
ordering, the log - is the same for every marketplace and lives in
:mod:`.applier` and :mod:`.sync`.

The shop connects the sync to its own data with two hooks:

* :meth:`BaseAdapter.resolve_order` finds or creates the shop's order for a
  marketplace order id. By default it calls the function named by
  ``ORDER_MAIL["MARKETPLACE_ORDER_RESOLVER"]``; without one, it looks the id
  up in the order field staff chose for the marketplace in the admin
  (:mod:`.matching`).
* :meth:`BaseAdapter.build_shipment` turns the parcel data of a payload into a
  :class:`~django_order_mail.lifecycle.shipments.Shipment`. Override it in a
  subclass (registered in ``ORDER_MAIL["MARKETPLACE_ADAPTERS"]``) when your
  carrier codes or shipment fields differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..lifecycle.carriers import CARRIERS
from ..lifecycle.shipments import Shipment
from .app_settings import app_settings

#: The adapters shipped with the app; ``ORDER_MAIL["MARKETPLACE_ADAPTERS"]``
#: adds entries or replaces them by name.
PACKAGED_ADAPTERS = {
    "aliexpress": "django_order_mail.marketplaces.aliexpress.AliExpressAdapter",
    "generic": "django_order_mail.marketplaces.generic.StateFeedAdapter",
}


@dataclass
class ShipmentData:
    """One parcel as a payload describes it, before it becomes a Shipment."""

    carrier: str
    tracking_number: str = ""
    shipping_method: str = ""
    shipped_at: datetime | None = None
    tracking_url: str = ""
    items: list[dict] = field(default_factory=list)


@dataclass
class MarketplaceUpdate:
    """One marketplace order update, in the marketplace's words but typed.

    ``status`` is the marketplace's own status string; the adapter maps it to a
    lifecycle state. ``line_items``, ``amounts`` and ``currency`` are for the
    shop's resolver (to create an order it has not seen yet); amounts are
    ``Decimal``. ``payload`` is the raw item, never stored.
    """

    marketplace: str
    external_id: str
    status: str
    payload: Any
    payload_hash: str
    sequence: datetime | None = None
    channel: str = ""
    reason: str = ""
    #: A preset reason code (``docs/lifecycle.rst``) the customer's email shows
    #: in its own language; the free-text ``reason`` is for staff only.
    reason_code: str = ""
    shipments: list[ShipmentData] = field(default_factory=list)
    line_items: list[dict] = field(default_factory=list)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    currency: str = ""
    refund_amount: Decimal | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def details(self) -> dict:
        """What the log keeps: JSON-safe, and free of buyer data."""
        data = {
            "status": self.status,
            "channel": self.channel,
            "tracking_numbers": [s.tracking_number for s in self.shipments if s.tracking_number],
            "amounts": {k: str(v) for k, v in self.amounts.items()},
            "currency": self.currency,
            **{k: v for k, v in self.facts.items() if v not in (None, "")},
        }
        if self.reason:
            data["reason"] = self.reason
        if self.reason_code:
            data["reason_code"] = self.reason_code
        if self.refund_amount is not None:
            data["refund_amount"] = str(self.refund_amount)
        if self.warnings:
            data["warnings"] = list(self.warnings)
        return data


class BaseAdapter:
    """Subclass per marketplace; see :class:`.aliexpress.AliExpressAdapter`."""

    #: Key of the marketplace in the log, the cursor and the registry.
    name: str = ""
    #: Human name for messages.
    label: str = ""
    #: Sales channel of this marketplace's orders (``events.DEFAULT_CHANNELS``).
    #: The resolver should give new orders this channel so its rules apply.
    channel: str = ""
    #: Marketplace status -> lifecycle state; None = informational, no move.
    status_map: dict[str, str | None] = {}
    #: Zone of naive marketplace timestamps.
    source_timezone: str = "UTC"
    #: Transitions the sync may run, in order of preference when two paths
    #: are equally short. Backward moves (``fail_payment``) and carrier events
    #: (``mark_out_for_delivery``) are left out on purpose.
    sync_transitions: tuple[str, ...] = (
        "hold_for_payment_review",
        "confirm_payment",
        "release_hold",
        "ship_partially",
        "ship",
        "mark_delivered",
        "complete",
        "freeze",
        "cancel",
        "open_dispute",
        "close_dispute",
        "refund",
    )
    #: Transitions that take a ``shipment``; the first one sends one parcel of
    #: several (it may repeat while the order stays in its target state).
    partial_shipping_transition: str = "ship_partially"
    shipping_transitions: tuple[str, ...] = ("ship_partially", "ship")
    #: Marketplace logistics service name (upper-cased) -> carrier code of
    #: ``lifecycle.carriers``; unknown names are matched against the registry
    #: and fall back to ``other`` (a multi-carrier tracker).
    carrier_codes: dict[str, str] = {}

    # -- reading the feed ------------------------------------------------------
    def iter_items(self, page) -> Iterable[Any]:
        """The order items of one page of the feed.

        Raise :class:`~.parsing.MalformedUpdateError` if the page itself is an error
        answer or has no recognisable shape: it is recorded as one failed entry
        and the sync goes on with the next page.
        """
        raise NotImplementedError

    def parse(self, item) -> MarketplaceUpdate:
        """Read one item; raise :class:`~.parsing.MalformedUpdateError` if it is
        unusable (or :class:`~.parsing.UnknownStatusError` for an unmapped status)."""
        raise NotImplementedError

    def target_state(self, update: MarketplaceUpdate, current: str | None) -> str | None:
        """The state the order should reach; ``current`` (None for an order
        without a state) lets a status mean different things before and after
        shipping (AliExpress ``FINISH``)."""
        return self.status_map.get(update.status)

    # -- the shop's hooks ------------------------------------------------------
    def check_configured(self) -> None:
        """Raise ImproperlyConfigured before a sync that could not resolve orders."""
        from .matching import rule_for

        if (
            type(self).resolve_order is BaseAdapter.resolve_order
            and not app_settings.MARKETPLACE_ORDER_RESOLVER
            and rule_for(self.name) is None
        ):
            raise ImproperlyConfigured(
                f"The {self.label or self.name} sync cannot find your orders: choose the order number "
                f"field for {self.name!r} in the admin (Order mail: marketplaces → order matching "
                "rules), or set ORDER_MAIL['MARKETPLACE_ORDER_RESOLVER'] to the dotted path of a "
                "function update -> order (or None), or override resolve_order() in your adapter."
            )

    def resolve_order(self, update: MarketplaceUpdate):
        """The shop's order for ``update.external_id``, created if need be, or
        None to leave this marketplace order alone (recorded as ignored).

        The Python resolver of the settings wins; without it, the admin's
        matching rule of this marketplace (:mod:`.matching`)."""
        from .matching import find_order, rule_for

        if app_settings.MARKETPLACE_ORDER_RESOLVER:
            resolver = import_string(app_settings.MARKETPLACE_ORDER_RESOLVER)
            return resolver(update)
        rule = rule_for(self.name)
        return find_order(rule, update.external_id) if rule is not None else None

    def carrier_code(self, service_name: str) -> str:
        key = (service_name or "").strip()
        if key.upper() in self.carrier_codes:
            return self.carrier_codes[key.upper()]
        registry = {**CARRIERS, **app_settings.CARRIERS}
        return key.lower() if key.lower() in registry else "other"

    def build_shipment(self, order, data: ShipmentData) -> Shipment:
        """Create the Shipment of ``order`` for one parcel of the payload."""
        fields: dict[str, Any] = {"shipping_method": data.shipping_method[:100], "items": data.items}
        if data.shipped_at:
            fields["shipped_at"] = data.shipped_at
        if data.tracking_url:
            fields["tracking_url"] = data.tracking_url[:500]
        return order.add_shipment(self.carrier_code(data.carrier)[:40], data.tracking_number[:100], **fields)

    def new_shipments(self, order, update: MarketplaceUpdate) -> list[ShipmentData]:
        """Parcels of the payload the order does not have yet (by tracking number)."""
        known = set(Shipment.for_order(order).values_list("tracking_number", flat=True))
        fresh, seen = [], set()
        for data in update.shipments:
            number = data.tracking_number.strip()
            if number and number not in known and number not in seen:
                seen.add(number)
                fresh.append(data)
        return fresh


def get_adapter(name: str) -> BaseAdapter:
    """The adapter registered as ``name`` (packaged or in MARKETPLACE_ADAPTERS)."""
    registry = {**PACKAGED_ADAPTERS, **(app_settings.MARKETPLACE_ADAPTERS or {})}
    if name not in registry:
        raise ImproperlyConfigured(
            f"Unknown marketplace {name!r}; known: {', '.join(sorted(registry))}. "
            "Register adapters in ORDER_MAIL['MARKETPLACE_ADAPTERS']."
        )
    target = registry[name]
    cls = import_string(target) if isinstance(target, str) else target
    adapter = cls()
    # The registry key names the feed in the log and the cursor, so one
    # adapter class can serve two stores under two keys.
    adapter.name = name
    return adapter
