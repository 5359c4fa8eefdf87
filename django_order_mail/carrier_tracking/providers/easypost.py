"""EasyPost tracker webhooks.

What EasyPost documents (the Webhooks Guide, the ``Event`` and ``Tracker``
objects; ``docs/carrier-tracking.rst``):

* Every webhook is an ``Event``: ``id`` (``evt_...``), ``object``
  (``"Event"``), ``description`` (``tracker.created``, ``tracker.updated``,
  or an event about another object), ``created_at`` and ``result``, the
  object the event is about. For a tracker event ``result`` is a
  ``Tracker``: ``tracking_code``, ``carrier``, ``status``,
  ``status_detail`` and ``tracking_details`` (the scans, each with
  ``message``, ``status``, ``status_detail``, ``datetime`` and a
  ``tracking_location``).
* With a ``webhook_secret`` set on the webhook, the header
  ``X-Hmac-Signature`` is ``"hmac-sha256-hex="`` followed by the hex
  HMAC-SHA256 of the raw body, keyed with the secret normalized to Unicode
  NFKD and encoded as UTF-8 (what EasyPost's client libraries'
  ``validate_webhook()`` computes).

Statuses: ``unknown``, ``pre_transit``, ``in_transit``, ``out_for_delivery``,
``delivered``, ``available_for_pickup``, ``return_to_sender``, ``failure``,
``cancelled``, ``error``. EasyPost has no customs status: a ``held``,
``delayed``, ``transit_exception`` or ``awaiting_information`` detail whose
newest scan mentions customs is taken as a customs hold.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from ..status import TrackingStatus as S
from .base import BaseProvider, CarrierUpdate, PayloadError, normalize_number, parse_time, text

STATUSES = {
    "pre_transit": S.PRE_TRANSIT,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "available_for_pickup": S.AVAILABLE_FOR_PICKUP,
    "return_to_sender": S.RETURNED_TO_SENDER,
    "failure": S.ATTEMPT_FAILED,
    # "unknown", "cancelled" (the tracker, not the parcel) and "error" say
    # nothing about where the parcel is.
}
#: Details that make an in-transit parcel a carrier exception.
EXCEPTION_DETAILS = {
    "damaged",
    "delayed",
    "delivery_exception",
    "held",
    "lost",
    "missorted",
    "refused",
    "transit_exception",
    "weather_delay",
    "address_correction",
    "awaiting_information",
}
CUSTOMS_DETAILS = {"held", "delayed", "transit_exception", "awaiting_information"}
TRACKER_EVENTS = {"tracker.created", "tracker.updated"}


class EasyPostProvider(BaseProvider):
    name = "easypost"
    label = "EasyPost"
    signature_header = "X-Hmac-Signature"

    def sign(self, body: bytes, secret: str) -> str:
        key = unicodedata.normalize("NFKD", secret).encode("utf-8")
        return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()

    def signatures_match(self, expected: str, received: str) -> bool:
        return super().signatures_match(expected.lower(), received.lower())

    def updates(self, payload: dict) -> list[CarrierUpdate]:
        if payload.get("description") not in TRACKER_EVENTS:
            return []
        tracker = payload.get("result")
        if not isinstance(tracker, dict) or not text(tracker.get("tracking_code")):
            raise PayloadError("a tracker event without result.tracking_code")
        if not text(payload.get("id")):
            raise PayloadError("an Event without an id")
        raw, detail = text(tracker.get("status"), 40), text(tracker.get("status_detail"), 40)
        scan = last_detail(tracker.get("tracking_details"))
        status = STATUSES.get(raw)
        if status is None:
            return []
        if detail == "return":
            status = S.RETURNED_TO_SENDER
        elif status == S.IN_TRANSIT and detail in EXCEPTION_DETAILS:
            mentions_customs = "customs" in text(scan.get("message"), 500).lower()
            status = S.CUSTOMS_HOLD if detail in CUSTOMS_DETAILS and mentions_customs else S.EXCEPTION
        scanned_at = parse_time(scan.get("datetime")) if scan else None
        return [
            CarrierUpdate(
                provider=self.name,
                event_id=text(payload.get("id")),
                tracking_number=normalize_number(text(tracker.get("tracking_code"))),
                status=status,
                raw_status="/".join(part for part in (raw, detail) if part),
                carrier=text(tracker.get("carrier"), 40),
                occurred_at=scanned_at
                or parse_time(tracker.get("updated_at"))
                or parse_time(payload.get("created_at")),
                last_scan_at=scanned_at,
                checkpoint=describe(scan),
            )
        ]


def last_detail(details) -> dict:
    """The newest scan (EasyPost lists them oldest first)."""
    scans = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    if not scans:
        return {}
    timed = [(parse_time(d.get("datetime")), i, d) for i, d in enumerate(scans)]
    if all(moment is not None for moment, _i, _d in timed):
        return max(timed, key=lambda item: (item[0], item[1]))[2]
    return scans[-1]


def describe(scan: dict) -> str:
    if not scan:
        return ""
    where = scan.get("tracking_location")
    where = where if isinstance(where, dict) else {}
    place = ", ".join(part for part in (text(where.get(k)) for k in ("city", "state", "country")) if part)
    message = text(scan.get("message"), 500)
    return f"{message} ({place})" if message and place else message or place
