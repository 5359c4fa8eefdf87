"""The provider interface: a webhook request in, carrier-neutral updates out.

Like Anymail's webhook views, one base class holds the steps every provider
shares and each provider fills in what differs (a template method):

1. :meth:`BaseProvider.verify` checks the request's signature against the
   configured secret and refuses (:class:`SignatureError`, HTTP 403) when
   there is no secret, no signature or a wrong one: a webhook is never
   trusted unsigned, whatever ``DEBUG`` says. The provider says how it signs
   (:meth:`~BaseProvider.sign`) and in which header.
2. :meth:`BaseProvider.parse` reads the raw body as JSON (:class:`PayloadError`,
   HTTP 400, otherwise) and hands the payload to the provider's
   :meth:`~BaseProvider.updates`, which returns :class:`CarrierUpdate` objects
   in the words of :class:`~..status.TrackingStatus`. A payload it has nothing
   to say about (another kind of event) gives no update.

A shop adds a provider by subclassing :class:`BaseProvider` and naming it in
``ORDER_MAIL["CARRIER_TRACKING_PROVIDERS"]`` (``docs/carrier-tracking.rst``).
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from ...exceptions import OrderMailError


class CarrierWebhookError(OrderMailError):
    """A carrier-tracking webhook was refused."""

    status_code = 400


class SignatureError(CarrierWebhookError):
    """No secret configured, no signature, or a wrong one: HTTP 403."""

    status_code = 403


class PayloadError(CarrierWebhookError):
    """The body is not the JSON the provider sends: HTTP 400."""

    status_code = 400


@dataclass(frozen=True)
class CarrierUpdate:
    """One provider event about one parcel, in carrier-neutral words."""

    provider: str
    #: The provider's id of this event: the same event delivered twice has
    #: the same id and is applied once.
    event_id: str
    tracking_number: str
    #: A :class:`~..status.TrackingStatus` value.
    status: str
    #: The provider's own words for it ("Exception/Exception_004"), for staff.
    raw_status: str = ""
    #: The provider's carrier code ("usps", "USPS"), for staff.
    carrier: str = ""
    #: When the status was reached (the newest scan, else the event's time).
    occurred_at: datetime | None = None
    #: The time of the carrier's newest scan, if the payload has scans.
    last_scan_at: datetime | None = None
    #: The carrier's words and place of its newest scan (staff only: carrier
    #: text is never put into a customer's email).
    checkpoint: str = ""


def normalize_number(number: str) -> str:
    """A tracking number as carriers print it in many ways ("1z 999-aa1"):
    without spaces and dashes, upper case."""
    return re.sub(r"[\s\-]+", "", str(number or "")).upper()[:100]


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string, a date or a Unix time.

    A time without a zone (AfterShip's ``checkpoint_time`` is in the
    checkpoint's local time) is taken as UTC: good to a day, which is what
    the stale-shipment warning needs.
    """
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def text(value: Any, limit: int = 255) -> str:
    """A payload value as a short one-line string ("" for anything else)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return " ".join(str(value).split())[:limit]


class BaseProvider:
    """What every carrier-tracking provider does; subclasses fill in the rest.

    ``config`` is the provider's entry of ``CARRIER_TRACKING_PROVIDERS``:
    ``secret`` (a string, or a list of strings while a secret is rotated).
    """

    #: The name in the webhook URL and in ``CARRIER_TRACKING_PROVIDERS``.
    name = ""
    #: The human name staff read.
    label = ""
    #: The request header that carries the signature.
    signature_header = ""

    def __init__(self, config: dict | None = None):
        self.config = dict(config or {})

    # -- step 1: the signature -------------------------------------------------------------------
    def secrets(self) -> list[str]:
        raw = self.config.get("secret")
        values = raw if isinstance(raw, (list, tuple)) else [raw]
        return [value for value in values if isinstance(value, str) and value]

    def sign(self, body: bytes, secret: str) -> str:
        """The signature the provider sends for ``body`` signed with ``secret``."""
        raise NotImplementedError

    def signatures_match(self, expected: str, received: str) -> bool:
        """Compared in constant time, as bytes (a str with a non-ASCII
        character would make ``compare_digest`` raise)."""
        return hmac.compare_digest(expected.encode(), received.encode("utf-8", "replace"))

    def verify(self, request) -> None:
        """Refuse the request unless it carries a signature made with one of
        the configured secrets. Fails closed: no secret means no webhook."""
        secrets = self.secrets()
        if not secrets:
            raise SignatureError(f"no webhook secret is configured for {self.name}")
        received = request.headers.get(self.signature_header, "").strip()
        if not received:
            raise SignatureError(f"no {self.signature_header} header")
        body = request.body
        if not any(self.signatures_match(self.sign(body, secret), received) for secret in secrets):
            raise SignatureError(f"the {self.signature_header} signature does not match")

    # -- step 2: the payload ---------------------------------------------------------------------
    def parse(self, request) -> list[CarrierUpdate]:
        """The updates of a verified request."""
        try:
            payload = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PayloadError(f"the body is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise PayloadError("the body is not a JSON object")
        return self.updates(payload)

    def updates(self, payload: dict) -> list[CarrierUpdate]:
        """The carrier-neutral updates of one payload; raise
        :class:`PayloadError` for one that is not the provider's format."""
        raise NotImplementedError
