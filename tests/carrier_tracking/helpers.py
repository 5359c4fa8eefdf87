"""Helpers of the carrier-tracking tests: provider webhooks signed the way each
provider documents it (computed here independently of the app's own signing
code), built from the documented sample payloads in ``fixtures/``."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import unicodedata
import uuid
from pathlib import Path

from django.urls import reverse

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AFTERSHIP_SECRET = "as-webhook-secret-7f3a"
# Non-ASCII, with a ligature and a precomposed letter: EasyPost keys the HMAC
# with the NFKD form ("ﬁ" -> "fi", "é" -> "e" + U+0301).
EASYPOST_SECRET = "ep-ﬁle-sécret"
AFTERSHIP_NUMBER = "9361289676091361892011"
EASYPOST_NUMBER = "9405500207552011812894"


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(raw_fixture(name))


def url(provider: str) -> str:
    return reverse("django_order_mail:carrier_tracking_webhook", args=[provider])


def aftership_signature(body: bytes, secret: str = AFTERSHIP_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def easypost_signature(body: bytes, secret: str = EASYPOST_SECRET) -> str:
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def aftership_body(
    tag: str = "InTransit",
    subtag: str = "",
    *,
    number: str = AFTERSHIP_NUMBER,
    event_id: str | None = None,
    checkpoint_time: str | None = None,
) -> bytes:
    payload = copy.deepcopy(fixture_json("aftership_tracking_update.json"))
    msg = payload["msg"]
    msg.update(tracking_number=number, tag=tag, subtag=subtag or f"{tag}_001")
    payload["event_id"] = event_id or str(uuid.uuid4())
    last = msg["checkpoints"][-1]
    last.update(tag=tag, subtag=msg["subtag"])
    if checkpoint_time:
        last["checkpoint_time"] = checkpoint_time
    return json.dumps(payload).encode()


def easypost_body(
    status: str = "in_transit",
    detail: str = "arrived_at_facility",
    *,
    number: str = EASYPOST_NUMBER,
    event_id: str | None = None,
    message: str | None = None,
    when: str | None = None,
) -> bytes:
    payload = copy.deepcopy(fixture_json("easypost_tracker_updated.json"))
    tracker = payload["result"]
    tracker.update(tracking_code=number, status=status, status_detail=detail)
    payload["id"] = event_id or f"evt_{uuid.uuid4().hex}"
    last = tracker["tracking_details"][-1]
    last.update(status=status, status_detail=detail)
    if message is not None:
        last["message"] = message
    if when:
        last["datetime"] = when
    return json.dumps(payload).encode()


def post(client, provider: str, body: bytes, signature: str | None = None, **extra):
    headers = {}
    if signature is not None:
        name = "aftership-hmac-sha256" if provider == "aftership" else "X-Hmac-Signature"
        headers[name] = signature
    return client.post(url(provider), data=body, content_type="application/json", headers=headers, **extra)


def post_aftership(client, body: bytes, secret: str = AFTERSHIP_SECRET):
    return post(client, "aftership", body, aftership_signature(body, secret))


def post_easypost(client, body: bytes, secret: str = EASYPOST_SECRET):
    return post(client, "easypost", body, easypost_signature(body, secret))


def ship(order, *numbers: str, carrier: str = "usps"):
    """Confirm ``order`` and ship it in one parcel per number; the parcels."""
    order.confirm_payment()
    order.save()
    parcels = []
    for i, number in enumerate(numbers):
        parcel = order.add_shipment(carrier, number)
        (order.ship if i == len(numbers) - 1 else order.ship_partially)(parcel)
        order.save()
        parcels.append(parcel)
    return parcels


def fresh(order):
    return type(order).objects.get(pk=order.pk)
