"""AfterShip Tracking webhooks.

What AfterShip documents (Tracking, "Webhook Specifications" and "Webhook
Signature"; ``docs/carrier-tracking.rst``):

* The body is JSON: ``event`` (``tracking_update`` for a status change;
  ``edd_revise`` and ``tracking_pending_time`` are other events),
  ``event_id`` (a UUID per event), ``ts`` (Unix time of the event),
  ``is_tracking_first_tag`` and ``msg``, the Tracking object:
  ``tracking_number``, ``slug`` (the carrier), ``tag`` and ``subtag``
  (the normalized status and sub-status) and ``checkpoints`` (the scans,
  each with ``checkpoint_time``, ``message``, ``location``, ``tag``...).
* The header ``aftership-hmac-sha256`` is the base64 HMAC-SHA256 of the raw
  body with the webhook secret (Settings > Webhooks).

Tags: ``Pending``, ``InfoReceived``, ``InTransit``, ``OutForDelivery``,
``AttemptFail``, ``Delivered``, ``AvailableForPickup``, ``Exception``,
``Expired``. An ``Exception`` is told apart by its subtag: ``Exception_004``
(delayed in customs clearance) and ``Exception_018`` (incorrect or missing
documents for the authorities) are a customs hold, ``Exception_010`` and
``Exception_011`` (returning / returned to sender) a return.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ..status import TrackingStatus as S
from .base import BaseProvider, CarrierUpdate, PayloadError, normalize_number, parse_time, text

TAGS = {
    "InfoReceived": S.PRE_TRANSIT,
    "InTransit": S.IN_TRANSIT,
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    "AttemptFail": S.ATTEMPT_FAILED,
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    "Delivered": S.DELIVERED,
    "Exception": S.EXCEPTION,
    # "Pending" (no information yet) and "Expired" (none for 30 days) say
    # nothing about where the parcel is.
}
EXCEPTION_SUBTAGS = {
    "Exception_004": S.CUSTOMS_HOLD,
    "Exception_018": S.CUSTOMS_HOLD,
    "Exception_010": S.RETURNED_TO_SENDER,
    "Exception_011": S.RETURNED_TO_SENDER,
}


class AfterShipProvider(BaseProvider):
    name = "aftership"
    label = "AfterShip"
    signature_header = "aftership-hmac-sha256"

    def sign(self, body: bytes, secret: str) -> str:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def updates(self, payload: dict) -> list[CarrierUpdate]:
        if payload.get("event") != "tracking_update":
            return []
        msg = payload.get("msg")
        if not isinstance(msg, dict) or not text(msg.get("tracking_number")):
            raise PayloadError("a tracking_update without msg.tracking_number")
        tag, subtag = text(msg.get("tag"), 40), text(msg.get("subtag"), 40)
        status = TAGS.get(tag)
        if status is None:
            return []
        if status == S.EXCEPTION:
            status = EXCEPTION_SUBTAGS.get(subtag, S.EXCEPTION)
        scan = last_checkpoint(msg.get("checkpoints"))
        scanned_at = parse_time(scan.get("checkpoint_time")) if scan else None
        return [
            CarrierUpdate(
                provider=self.name,
                event_id=text(payload.get("event_id")) or fallback_id(payload),
                tracking_number=normalize_number(text(msg.get("tracking_number"))),
                status=status,
                raw_status="/".join(part for part in (tag, subtag) if part),
                carrier=text(msg.get("slug"), 40),
                occurred_at=scanned_at or parse_time(payload.get("ts")),
                last_scan_at=scanned_at,
                checkpoint=describe(scan),
            )
        ]


def last_checkpoint(checkpoints) -> dict:
    """The newest scan (AfterShip lists them oldest first)."""
    scans = [c for c in checkpoints or [] if isinstance(c, dict)] if isinstance(checkpoints, list) else []
    if not scans:
        return {}
    timed = [(parse_time(c.get("checkpoint_time")), i, c) for i, c in enumerate(scans)]
    if all(moment is not None for moment, _i, _c in timed):
        return max(timed, key=lambda item: (item[0], item[1]))[2]
    return scans[-1]


def describe(scan: dict) -> str:
    if not scan:
        return ""
    place = text(scan.get("location")) or ", ".join(
        part for part in (text(scan.get("city")), text(scan.get("country_iso3"))) if part
    )
    message = text(scan.get("message"), 500)
    return f"{message} ({place})" if message and place else message or place


def fallback_id(payload: dict) -> str:
    """AfterShip always sends ``event_id``; without one the same body still
    gets the same id."""
    msg = payload.get("msg") or {}
    basis = "|".join(
        text(part)
        for part in (payload.get("ts"), msg.get("tracking_number"), msg.get("tag"), msg.get("subtag"))
    )
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()
