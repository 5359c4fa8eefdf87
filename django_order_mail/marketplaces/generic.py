"""A neutral feed whose items already name lifecycle states.

For marketplaces without a packaged adapter - Amazon orders read from the
SP-API, a regional marketplace, an ERP - the shop converts each order change
into this shape and lets the same applier walk the lifecycle::

    {"items": [
      {"order_id": "114-3941689-8772232",
       "status": "shipped",                      # a state of docs/lifecycle.rst
       "updated_at": "2024-05-02T09:30:00Z",     # orders updates; optional
       "channel": "amazon_fbm",                  # sales channel; optional
       "reason_code": "out_of_stock",            # a preset reason the email shows; optional
       "reason": "Out of stock",                 # free text for staff (sync log); optional
       "refund_amount": {"amount": "12.50", "currency_code": "EUR"},
       "shipments": [{"carrier": "ups", "tracking_number": "1Z999AA10123456784",
                      "shipped_at": "2024-05-02T08:00:00Z"}]}
    ]}

A page may also be the bare list of items. Timestamps without a zone are UTC.
"""

from __future__ import annotations

from ..lifecycle.states import OrderState
from .base import BaseAdapter, MarketplaceUpdate, ShipmentData
from .parsing import (
    MalformedUpdateError,
    UnknownStatusError,
    parse_amount,
    parse_external_id,
    parse_money,
    parse_timestamp,
    payload_hash,
)


class StateFeedAdapter(BaseAdapter):
    name = "generic"
    label = "feed"
    status_map = {state.value: state.value for state in OrderState}

    def iter_items(self, page):
        if isinstance(page, list):
            return page
        if isinstance(page, dict) and isinstance(page.get("items"), list):
            return page["items"]
        raise MalformedUpdateError('page is neither a list of items nor {"items": [...]}')

    def parse(self, item) -> MarketplaceUpdate:
        if not isinstance(item, dict):
            raise MalformedUpdateError(f"item is not a JSON object but {type(item).__name__}")
        raw = item.get("status")
        status = raw.strip().lower() if isinstance(raw, str) else ""
        try:
            external_id = parse_external_id(item.get("order_id"))
        except MalformedUpdateError as exc:
            raise MalformedUpdateError(str(exc), status=status) from exc
        if status not in self.status_map:
            raise UnknownStatusError(
                f"unknown status {raw!r}", external_id=external_id, status=str(raw or "")[:64]
            )
        try:
            update = MarketplaceUpdate(
                marketplace=self.name,
                external_id=external_id,
                status=status,
                payload=item,
                payload_hash=payload_hash(item),
                sequence=parse_timestamp(item.get("updated_at"), "updated_at", self.source_timezone),
                channel=str(item.get("channel") or self.channel or ""),
                reason=str(item.get("reason") or "")[:500],
                reason_code=str(item.get("reason_code") or "")[:40],
            )
            refund = item.get("refund_amount")
            if isinstance(refund, dict):
                update.refund_amount, update.currency = parse_money(refund, "refund_amount")
            elif refund not in (None, ""):
                update.refund_amount = parse_amount(refund, "refund_amount")
            if update.refund_amount is not None and update.refund_amount <= 0:
                raise MalformedUpdateError(f"refund_amount {refund!r} must be positive")
            shipments = item.get("shipments") or []
            if not isinstance(shipments, list):
                raise MalformedUpdateError("shipments: expected a list")
            for i, data in enumerate(shipments):
                if not isinstance(data, dict) or not data.get("carrier"):
                    raise MalformedUpdateError(f"shipment {i}: needs at least a carrier")
                update.shipments.append(
                    ShipmentData(
                        carrier=str(data["carrier"]),
                        tracking_number=str(data.get("tracking_number") or ""),
                        shipping_method=str(data.get("shipping_method") or ""),
                        shipped_at=parse_timestamp(
                            data.get("shipped_at"), f"shipment {i} shipped_at", self.source_timezone
                        ),
                        tracking_url=str(data.get("tracking_url") or ""),
                    )
                )
        except MalformedUpdateError as exc:
            raise MalformedUpdateError(str(exc), external_id=external_id, status=status) from exc
        return update
