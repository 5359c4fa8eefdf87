"""The carrier-tracking webhooks over HTTP (Django's test client): signed as each
provider documents it, they move the parcel and its order; anything else is
refused before a byte of the body is trusted.

* Correct signature → 200 and the update applied; the providers' sample
  payloads as they are (the raw file bytes) are accepted.
* No secret configured (provider not enabled), no signature, a wrong one, a
  signature made with another secret or over another body → 403, nothing
  stored, nothing moved.
* A signed body that is not the provider's JSON → 400.
* A parcel the shop does not know → 200, ignored.
* GET (or PUT) → 405, no side effect; an unknown provider → 404.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from django_order_mail.carrier_tracking.models import CarrierEvent, ShipmentTracking
from django_order_mail.lifecycle.shipments import Shipment
from django_order_mail.outbox.models import OutboxEmail
from tests.carrier_tracking.helpers import (
    AFTERSHIP_NUMBER,
    AFTERSHIP_SECRET,
    EASYPOST_NUMBER,
    EASYPOST_SECRET,
    aftership_body,
    aftership_signature,
    easypost_body,
    easypost_signature,
    fresh,
    post,
    post_aftership,
    post_easypost,
    raw_fixture,
    ship,
    url,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def nothing_happened(order, emails_before: int):
    assert not CarrierEvent.objects.exists()
    assert not ShipmentTracking.objects.exists()
    assert fresh(order).state == "shipped"
    assert OutboxEmail.for_order(order).count() == emails_before
    assert not Shipment.for_order(order).filter(delivered_at__isnull=False).exists()


# -- accepted ----------------------------------------------------------------------------------------


def test_the_aftership_sample_as_sent_is_accepted(client, providers, shipped):
    body = raw_fixture("aftership_tracking_update.json")
    response = post(client, "aftership", body, aftership_signature(body))
    assert response.status_code == 200
    assert response.json() == {"received": 1, "applied": 1}
    tracking = ShipmentTracking.objects.get()
    assert tracking.status == "in_transit" and tracking.provider == "aftership" and tracking.carrier == "usps"
    assert tracking.tracking_number == AFTERSHIP_NUMBER
    assert tracking.last_checkpoint == (
        "Departed Shipping Partner Facility, USPS Awaiting Item (SAN FRANCISCO, CA 94107, USA)"
    )
    assert tracking.last_scan_at.isoformat() == "2021-01-14T00:52:00+00:00"  # local time taken as UTC
    event = CarrierEvent.objects.get()
    assert event.event_id == "3f645f5e-530b-4062-8695-db6a64420af8"
    assert event.raw_status == "InTransit/InTransit_001"


def test_the_easypost_sample_as_sent_is_accepted(client, providers, broker):
    order = OrderFactory()
    ship(order, EASYPOST_NUMBER)
    body = raw_fixture("easypost_tracker_updated.json")
    response = post(client, "easypost", body, easypost_signature(body))
    assert response.status_code == 200 and response.json()["applied"] == 1
    tracking = ShipmentTracking.objects.get()
    assert (tracking.status, tracking.provider, tracking.carrier) == ("in_transit", "easypost", "USPS")
    assert tracking.last_checkpoint == "Arrived at USPS Regional Origin Facility (HOUSTON, TX)"
    assert tracking.last_scan_at.isoformat() == "2024-01-25T08:14:43+00:00"
    assert CarrierEvent.objects.get().event_id == "evt_ad2365c22d1511f0b5364ffbb3e7a1f1"


def test_a_tracking_number_is_found_however_it_is_written(client, providers, broker):
    order = OrderFactory()
    [parcel] = ship(order, "1z999aa10123456784")
    assert post_aftership(client, aftership_body(number="1Z 999 AA1 0123 4567 84")).status_code == 200
    assert ShipmentTracking.objects.get().shipment_id == parcel.pk


def test_while_a_secret_is_rotated_both_are_accepted(client, settings, shipped):
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "CARRIER_TRACKING_PROVIDERS": {"aftership": {"secret": ["new-secret", AFTERSHIP_SECRET]}},
    }
    assert post_aftership(client, aftership_body()).status_code == 200
    assert post_aftership(client, aftership_body("OutForDelivery"), secret="new-secret").status_code == 200
    assert fresh(shipped).state == "out_for_delivery"


# -- refused -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["aftership", "easypost"])
def test_without_a_configured_secret_every_webhook_is_refused(client, settings, shipped, provider):
    """Fail closed: a provider that is not configured (or has an empty
    secret) accepts nothing, whatever DEBUG says."""
    before = OutboxEmail.for_order(shipped).count()
    body = aftership_body("Delivered") if provider == "aftership" else easypost_body("delivered", "")
    sign = aftership_signature if provider == "aftership" else easypost_signature
    for config in ({}, {provider: {"secret": ""}}, {provider: {}}):
        for debug in (False, True):
            settings.DEBUG = debug
            settings.ORDER_MAIL = {**settings.ORDER_MAIL, "CARRIER_TRACKING_PROVIDERS": config}
            assert post(client, provider, body, sign(body, "")).status_code == 403
            assert post(client, provider, body, sign(body)).status_code == 403
    nothing_happened(shipped, before)


def test_a_wrong_or_missing_signature_is_refused(client, providers, shipped):
    before = OutboxEmail.for_order(shipped).count()
    body = aftership_body("Delivered")
    other = aftership_body("Delivered", event_id="another")
    for signature in (
        None,  # no header
        "",
        aftership_signature(body, "not-the-secret"),
        aftership_signature(other),  # signed, but another body
        aftership_signature(body).lower(),  # base64 is case-sensitive
        easypost_signature(body, AFTERSHIP_SECRET),  # the other provider's scheme
        "é" + aftership_signature(body)[1:],  # non-ASCII must not crash the comparison
    ):
        assert post(client, "aftership", body, signature).status_code == 403, signature
    nothing_happened(shipped, before)


def test_easypost_needs_its_own_scheme(client, providers, shipped):
    """The hex digest with its prefix, keyed with the NFKD-normalized secret."""
    before = OutboxEmail.for_order(shipped).count()
    body = easypost_body("delivered", "", number=AFTERSHIP_NUMBER)
    raw_hex = easypost_signature(body).removeprefix("hmac-sha256-hex=")
    for signature in (
        raw_hex,  # no prefix
        "hmac-sha256-hex=" + hmac_with_unnormalized_key(body),
        aftership_signature(body, EASYPOST_SECRET),
    ):
        assert post(client, "easypost", body, signature).status_code == 403, signature
    nothing_happened(shipped, before)
    # Upper-case hex is the same digest.
    assert post(client, "easypost", body, "hmac-sha256-hex=" + raw_hex.upper()).status_code == 200
    assert fresh(shipped).state == "delivered"


def hmac_with_unnormalized_key(body: bytes) -> str:
    return hmac.new(EASYPOST_SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_forged_webhook_for_another_customers_parcel_does_nothing(client, providers, shipped, broker):
    """Someone who knows a customer's tracking number (it is printed on the
    parcel) posts "delivered" without the secret: nothing moves."""
    victim = OrderFactory(email="victim@example.com")
    ship(victim, "JD014600003828")
    before = OutboxEmail.for_order(victim).count()
    forged = aftership_body("Delivered", number="JD014600003828")
    for signature in (None, aftership_signature(forged, "guessed"), aftership_signature(aftership_body())):
        assert post(client, "aftership", forged, signature).status_code == 403
    assert post(client, "easypost", forged, easypost_signature(forged, "guessed")).status_code == 403
    nothing_happened(victim, before)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"event": "tracking_update", "msg": "x"}'],
)
def test_a_malformed_signed_body_is_a_400(client, providers, shipped, body):
    assert post_aftership(client, body).status_code == 400
    assert not CarrierEvent.objects.exists()


def test_a_malformed_signed_easypost_event_is_a_400(client, providers, shipped):
    payload = json.loads(easypost_body())
    del payload["result"]["tracking_code"]
    assert post_easypost(client, json.dumps(payload).encode()).status_code == 400
    payload = json.loads(easypost_body())
    payload["id"] = ""
    assert post_easypost(client, json.dumps(payload).encode()).status_code == 400


# -- accepted and ignored ----------------------------------------------------------------------------


def test_an_unknown_parcel_is_a_200_and_ignored(client, providers, shipped, caplog):
    caplog.set_level("INFO", logger="django_order_mail.carrier_tracking")
    response = post_aftership(client, aftership_body("Delivered", number="UNKNOWN123"))
    assert response.status_code == 200 and response.json() == {"received": 1, "applied": 0}
    assert not CarrierEvent.objects.exists() and fresh(shipped).state == "shipped"
    assert "unknown tracking number UNKNOWN123 ignored" in caplog.text


def test_other_events_of_the_providers_are_a_200_and_change_nothing(client, providers, shipped):
    payload = json.loads(aftership_body("Delivered"))
    payload["event"] = "edd_revise"
    assert post_aftership(client, json.dumps(payload).encode()).json() == {"received": 0, "applied": 0}
    for tag in ("Pending", "Expired"):
        assert post_aftership(client, aftership_body(tag)).json() == {"received": 0, "applied": 0}
    payload = json.loads(easypost_body("delivered", "", number=AFTERSHIP_NUMBER))
    payload["description"] = "batch.updated"
    assert post_easypost(client, json.dumps(payload).encode()).json() == {"received": 0, "applied": 0}
    assert not CarrierEvent.objects.exists() and fresh(shipped).state == "shipped"


# -- not a webhook -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put", "delete", "head"])
def test_only_post_is_answered_and_nothing_else_has_a_side_effect(client, providers, shipped, method):
    before = OutboxEmail.for_order(shipped).count()
    body = aftership_body("Delivered")
    headers = {"aftership-hmac-sha256": aftership_signature(body)}
    if method in ("get", "head"):
        response = getattr(client, method)(url("aftership"), headers=headers)
    else:
        response = getattr(client, method)(url("aftership"), data=body, headers=headers)
    assert response.status_code == 405
    nothing_happened(shipped, before)


def test_an_unknown_provider_is_a_404(client, providers, shipped):
    body = aftership_body("Delivered")
    assert post(client, "shippo", body, aftership_signature(body)).status_code == 404
    assert not CarrierEvent.objects.exists()


def test_the_urls_are_the_documented_ones():
    assert url("aftership") == "/mail/carrier-tracking/aftership/"
    assert url("easypost") == "/mail/carrier-tracking/easypost/"


def test_the_webhooks_need_no_csrf_token(providers, shipped):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post_aftership(strict, aftership_body()).status_code == 200
