"""AliExpress: order API payloads -> lifecycle states.

Reads the answers of ``aliexpress.solution.order.get`` (a page of
``target_list.order_dto``) and ``aliexpress.solution.order.info.get`` (one
order in ``result.data``), whole or unwrapped, in snake_case or the camelCase
some SDKs produce. Each order's ``order_status`` maps to a state of
``docs/lifecycle.rst``:

=========================== ===================== ==============================
``order_status``            state                 meaning (AliExpress)
=========================== ===================== ==============================
PLACE_ORDER_SUCCESS         pending_payment       placed, awaiting payment
RISK_CONTROL                payment_review        payment under security review
WAIT_SELLER_EXAMINE_MONEY   payment_review        waiting for the seller to
                                                  confirm the amount
WAIT_SELLER_SEND_GOODS      awaiting_shipment     paid, seller must ship
SELLER_PART_SEND_GOODS      partially_shipped     some parcels sent
WAIT_BUYER_ACCEPT_GOODS     shipped               in transit, buyer to confirm
FUND_PROCESSING             completed             buyer confirmed receipt
FINISH                      completed/cancelled   closed (see below)
IN_CANCEL                   cancelled             buyer asked to cancel
IN_ISSUE                    in_dispute            dispute open
IN_FROZEN                   frozen                frozen by AliExpress
=========================== ===================== ==============================

``FINISH`` closes both delivered orders and orders that never shipped
(unpaid, cancelled, shipping deadline missed), so it means ``completed``
when the order has shipped - by its state in the shop, its logistics status,
its tracking data or an ``end_reason`` about the buyer accepting the goods -
and ``cancelled`` otherwise.

Timestamps without a zone (``gmt_update``) are Pacific time, as AliExpress
documents for its order API.
"""

from __future__ import annotations

import re
from decimal import Decimal

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

#: States in which the order has left the seller.
_SHIPPED_STATES = frozenset(
    {
        OrderState.PARTIALLY_SHIPPED,
        OrderState.SHIPPED,
        OrderState.OUT_FOR_DELIVERY,
        OrderState.DELIVERED,
        OrderState.COMPLETED,
        OrderState.IN_DISPUTE,
    }
)
_SHIPPED_LOGISTICS = frozenset({"SELLER_SEND_PART_GOODS", "SELLER_SEND_GOODS", "BUYER_ACCEPT_GOODS"})
_CAMEL = re.compile(r"_([a-z0-9])")


def _get(data: dict, key: str, default=None):
    """``data[key]``, or its camelCase spelling (``gmt_update`` / ``gmtUpdate``)."""
    if key in data:
        return data[key]
    return data.get(_CAMEL.sub(lambda m: m.group(1).upper(), key), default)


def _list_of(value, inner: str) -> list:
    """AliExpress wraps lists: ``{"order_dto": [...]}``; accept the bare list too."""
    if value in (None, "", {}):
        return []
    if isinstance(value, dict):
        value = _get(value, inner, [])
        if isinstance(value, dict):
            value = [value]
    if not isinstance(value, list):
        raise MalformedUpdateError(f"{inner}: expected a list, got {type(value).__name__}")
    return value


class AliExpressAdapter(BaseAdapter):
    name = "aliexpress"
    label = "AliExpress"
    channel = "aliexpress"
    source_timezone = "America/Los_Angeles"
    status_map = {
        "PLACE_ORDER_SUCCESS": OrderState.PENDING_PAYMENT,
        "RISK_CONTROL": OrderState.PAYMENT_REVIEW,
        "WAIT_SELLER_EXAMINE_MONEY": OrderState.PAYMENT_REVIEW,
        "WAIT_SELLER_SEND_GOODS": OrderState.AWAITING_SHIPMENT,
        "SELLER_PART_SEND_GOODS": OrderState.PARTIALLY_SHIPPED,
        "WAIT_BUYER_ACCEPT_GOODS": OrderState.SHIPPED,
        "FUND_PROCESSING": OrderState.COMPLETED,
        "FINISH": OrderState.COMPLETED,
        "IN_CANCEL": OrderState.CANCELLED,
        "IN_ISSUE": OrderState.IN_DISPUTE,
        "IN_FROZEN": OrderState.FROZEN,
    }
    #: AliExpress logistics service codes (first one or two ``_`` tokens).
    carrier_codes = {
        "CAINIAO": "cainiao",
        "AE_CAINIAO": "cainiao",
        "CPAM": "china_post",
        "CPAP": "china_post",
        "CHINA_POST": "china_post",
        "EMS": "ems",
        "EMS_ZX": "ems",
        "YANWEN": "yanwen",
        "SF": "sf_express",
        "SF_EXPRESS": "sf_express",
        "4PX": "4px",
        "DHL": "dhl",
        "UPS": "ups",
        "FEDEX": "fedex",
        "RUSSIAN_POST": "russian_post",
        "POST_RU": "russian_post",
    }

    # -- pages -----------------------------------------------------------------
    def iter_items(self, page):
        if isinstance(page, list):
            return page
        if not isinstance(page, dict):
            raise MalformedUpdateError(f"page is not a JSON object but {type(page).__name__}")
        if "error_response" in page:
            err = page["error_response"] if isinstance(page["error_response"], dict) else {}
            raise MalformedUpdateError(
                f"AliExpress error {err.get('code', '?')}: {err.get('msg') or err.get('sub_msg') or ''}"
            )
        body = next(
            (v for k, v in page.items() if k.endswith("_response") and isinstance(v, dict)),
            page,
        )
        result = body.get("result", body)
        if not isinstance(result, dict):
            raise MalformedUpdateError("page has no result object")
        code = _get(result, "error_code")
        if code not in (None, "", "0", 0) or result.get("success") is False:
            message = _get(result, "error_message") or _get(result, "error_msg") or ""
            raise MalformedUpdateError(f"AliExpress error {code}: {message}")
        if "target_list" in result or "targetList" in result:
            return _list_of(_get(result, "target_list"), "order_dto")
        data = result.get("data")
        if isinstance(data, dict):
            return [data]
        if _get(result, "order_id") is not None:
            return [result]
        raise MalformedUpdateError("page has neither result.target_list nor result.data")

    # -- items -----------------------------------------------------------------
    def parse(self, item) -> MarketplaceUpdate:
        if not isinstance(item, dict):
            raise MalformedUpdateError(f"order item is not a JSON object but {type(item).__name__}")
        raw_status = _get(item, "order_status")
        status = raw_status.strip().upper() if isinstance(raw_status, str) else ""
        try:
            external_id = parse_external_id(_get(item, "order_id"))
        except MalformedUpdateError as exc:
            raise MalformedUpdateError(str(exc), status=status) from exc
        if not status:
            raise MalformedUpdateError("order_status is missing", external_id=external_id)
        if status not in self.status_map:
            raise UnknownStatusError(
                f"unknown AliExpress order_status {status!r}", external_id=external_id, status=status
            )
        try:
            sequence = parse_timestamp(
                _get(item, "gmt_update") or _get(item, "gmt_modified"), "gmt_update", self.source_timezone
            )
        except MalformedUpdateError as exc:
            raise MalformedUpdateError(str(exc), external_id=external_id, status=status) from exc

        update = MarketplaceUpdate(
            marketplace=self.name,
            external_id=external_id,
            status=status,
            payload=item,
            payload_hash=payload_hash(item),
            sequence=sequence,
            channel=self.channel,
        )
        self._read_products(item, update)
        self._read_logistics(item, update)
        update.facts = {
            key: _get(item, key)
            for key in ("end_reason", "fund_status", "frozen_status", "issue_status", "logistics_status")
            if isinstance(_get(item, key), str)
        }
        return update

    def _money(self, obj, field: str, update: MarketplaceUpdate):
        """A money object, or None with a warning: a bad price must not stop
        a status update, but it is recorded."""
        if obj in (None, "", {}):
            return None
        try:
            return parse_money(obj, field)
        except MalformedUpdateError as exc:
            update.warnings.append(str(exc))
            return None

    def _read_products(self, item: dict, update: MarketplaceUpdate) -> None:
        try:
            products = _list_of(_get(item, "product_list"), "order_product_dto")
        except MalformedUpdateError as exc:
            update.warnings.append(str(exc))
            products = []
        sums: dict[str, list] = {"subtotal": [], "shipping": []}
        for i, product in enumerate(products):
            if not isinstance(product, dict):
                update.warnings.append(f"product {i}: not a JSON object")
                continue
            unit = self._money(_get(product, "product_unit_price"), f"product {i} unit price", update)
            total = self._money(_get(product, "total_product_amount"), f"product {i} total", update)
            shipping = self._money(_get(product, "logistics_amount"), f"product {i} shipping", update)
            try:
                quantity = int(parse_amount(_get(product, "product_count", 1), f"product {i} quantity"))
            except MalformedUpdateError as exc:
                update.warnings.append(str(exc))
                quantity = 1
            update.line_items.append(
                {
                    "name": str(_get(product, "product_name", "") or "")[:255],
                    "quantity": quantity,
                    "unit_price": unit[0] if unit else None,
                    "total": total[0] if total else None,
                    "currency": (unit or total or (None, ""))[1],
                    "sku": str(_get(product, "sku_code", "") or ""),
                    "product_id": str(_get(product, "product_id", "") or ""),
                    "image_url": str(_get(product, "product_img_url", "") or ""),
                }
            )
            sums["subtotal"].append(total)
            sums["shipping"].append(shipping)
        paid = self._money(_get(item, "pay_amount") or _get(item, "order_amount"), "pay_amount", update)
        if paid:
            update.amounts["total"], update.currency = paid
        for key, values in sums.items():
            present = [v for v in values if v is not None]
            if not present:
                continue
            currencies = {c for _a, c in present}
            if len(currencies) > 1:
                update.warnings.append(f"{key}: mixed currencies {sorted(currencies)}; not summed")
                continue
            update.amounts[key] = sum((a for a, _c in present), Decimal("0"))
            update.currency = update.currency or present[0][1]

    def _read_logistics(self, item: dict, update: MarketplaceUpdate) -> None:
        try:
            entries = _list_of(_get(item, "logistic_info_list"), "global_aeop_tp_logistic_info_dto")
        except MalformedUpdateError as exc:
            update.warnings.append(str(exc))
            return
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                update.warnings.append(f"logistics {i}: not a JSON object")
                continue
            number = _get(entry, "logistics_no")
            if not isinstance(number, (str, int)) or isinstance(number, bool) or not str(number).strip():
                continue
            try:
                sent = parse_timestamp(
                    _get(entry, "gmt_send"), f"logistics {i} gmt_send", self.source_timezone
                )
            except MalformedUpdateError as exc:
                update.warnings.append(str(exc))
                sent = None
            service = str(_get(entry, "logistics_service_name") or _get(entry, "logistics_service") or "")
            update.shipments.append(
                ShipmentData(
                    carrier=str(_get(entry, "logistics_type_code") or service),
                    tracking_number=str(number).strip(),
                    shipping_method=service,
                    shipped_at=sent,
                )
            )

    # -- mapping ---------------------------------------------------------------
    def target_state(self, update: MarketplaceUpdate, current: str | None) -> str | None:
        target = super().target_state(update, current)
        if (
            update.status == "FINISH"
            and target == OrderState.COMPLETED
            and not self._has_shipped(update, current)
        ):
            return OrderState.CANCELLED
        return target

    def _has_shipped(self, update: MarketplaceUpdate, current: str | None) -> bool:
        if current in _SHIPPED_STATES or update.shipments:
            return True
        if update.facts.get("logistics_status", "").upper() in _SHIPPED_LOGISTICS:
            return True
        return "accept" in update.facts.get("end_reason", "").lower()

    def carrier_code(self, service_name: str) -> str:
        tokens = [t for t in re.split(r"[_\s-]+", (service_name or "").upper()) if t]
        for candidate in ("_".join(tokens), "_".join(tokens[:2]), "".join(tokens[:1])):
            if candidate in self.carrier_codes:
                return self.carrier_codes[candidate]
        return super().carrier_code(service_name)
