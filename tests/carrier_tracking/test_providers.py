"""The providers on their own: each provider's vocabulary mapped to the
carrier-neutral statuses, its signature scheme, and the EasyPost scheme
checked against EasyPost's own ``validate_webhook()`` (the ``easypost``
package of the ``dev`` extra)."""

from __future__ import annotations

import json
from datetime import timezone as dt_timezone

import pytest
from django.test import RequestFactory

from django_order_mail.carrier_tracking.providers import (
    PACKAGED,
    BaseProvider,
    PayloadError,
    SignatureError,
    get_provider,
)
from django_order_mail.carrier_tracking.providers.aftership import AfterShipProvider
from django_order_mail.carrier_tracking.providers.base import normalize_number, parse_time
from django_order_mail.carrier_tracking.providers.easypost import EasyPostProvider
from django_order_mail.carrier_tracking.status import STAGE, TrackingStatus, moves_forward
from tests.carrier_tracking.helpers import (
    AFTERSHIP_SECRET,
    EASYPOST_SECRET,
    aftership_body,
    aftership_signature,
    easypost_body,
    easypost_signature,
    raw_fixture,
)

S = TrackingStatus


@pytest.mark.parametrize(
    ("tag", "subtag", "status"),
    [
        ("InfoReceived", "InfoReceived_001", S.PRE_TRANSIT),
        ("InTransit", "InTransit_007", S.IN_TRANSIT),
        ("OutForDelivery", "OutForDelivery_001", S.OUT_FOR_DELIVERY),
        ("AttemptFail", "AttemptFail_002", S.ATTEMPT_FAILED),
        ("AvailableForPickup", "AvailableForPickup_001", S.AVAILABLE_FOR_PICKUP),
        ("Delivered", "Delivered_003", S.DELIVERED),
        ("Exception", "Exception_004", S.CUSTOMS_HOLD),  # delayed (customs clearance)
        ("Exception", "Exception_018", S.CUSTOMS_HOLD),  # incorrect / missing documents
        ("Exception", "Exception_010", S.RETURNED_TO_SENDER),  # returning to sender
        ("Exception", "Exception_011", S.RETURNED_TO_SENDER),  # returned to sender
        ("Exception", "Exception_013", S.EXCEPTION),  # lost
        ("Exception", "Exception_012", S.EXCEPTION),  # damaged
    ],
)
def test_aftership_tags(tag, subtag, status):
    [update] = AfterShipProvider().updates(json.loads(aftership_body(tag, subtag)))
    assert update.status == status and update.raw_status == f"{tag}/{subtag}"


@pytest.mark.parametrize("tag", ["Pending", "Expired", "SomethingNew"])
def test_aftership_tags_that_say_nothing(tag):
    assert AfterShipProvider().updates(json.loads(aftership_body(tag))) == []


@pytest.mark.parametrize(
    ("status", "detail", "message", "expected"),
    [
        ("pre_transit", "label_created", None, S.PRE_TRANSIT),
        ("in_transit", "arrived_at_facility", None, S.IN_TRANSIT),
        ("out_for_delivery", "out_for_delivery", None, S.OUT_FOR_DELIVERY),
        ("delivered", "arrived_at_destination", None, S.DELIVERED),
        ("available_for_pickup", "arrived_at_pickup_location", None, S.AVAILABLE_FOR_PICKUP),
        ("return_to_sender", "return", None, S.RETURNED_TO_SENDER),
        ("in_transit", "return", None, S.RETURNED_TO_SENDER),
        ("failure", "delivery_exception", None, S.ATTEMPT_FAILED),
        ("in_transit", "held", "Held in Customs", S.CUSTOMS_HOLD),
        ("in_transit", "delayed", "Customs clearance delay", S.CUSTOMS_HOLD),
        ("in_transit", "held", "Held at facility", S.EXCEPTION),
        ("in_transit", "damaged", "Customs inspected, damaged", S.EXCEPTION),
        ("in_transit", "weather_delay", None, S.EXCEPTION),
    ],
)
def test_easypost_statuses(status, detail, message, expected):
    [update] = EasyPostProvider().updates(json.loads(easypost_body(status, detail, message=message)))
    assert update.status == expected


@pytest.mark.parametrize("status", ["unknown", "cancelled", "error"])
def test_easypost_statuses_that_say_nothing(status):
    assert EasyPostProvider().updates(json.loads(easypost_body(status, "unknown"))) == []


def test_the_samples_parse_to_one_update_each():
    [aftership] = AfterShipProvider().updates(json.loads(raw_fixture("aftership_tracking_update.json")))
    assert aftership.tracking_number == "9361289676091361892011" and aftership.carrier == "usps"
    assert aftership.occurred_at == aftership.last_scan_at  # the newest checkpoint
    [easypost] = EasyPostProvider().updates(json.loads(raw_fixture("easypost_tracker_updated.json")))
    assert easypost.event_id == "evt_ad2365c22d1511f0b5364ffbb3e7a1f1" and easypost.carrier == "USPS"
    assert easypost.raw_status == "in_transit/arrived_at_facility"


def test_the_newest_scan_wins_whatever_the_order_of_the_list():
    payload = json.loads(aftership_body("InTransit"))
    payload["msg"]["checkpoints"].reverse()
    [update] = AfterShipProvider().updates(payload)
    assert update.last_scan_at.isoformat() == "2021-01-14T00:52:00+00:00"


def test_without_checkpoints_the_event_time_is_used():
    payload = json.loads(aftership_body("InTransit"))
    payload["msg"]["checkpoints"] = []
    [update] = AfterShipProvider().updates(payload)
    assert update.last_scan_at is None and update.occurred_at.isoformat() == "2021-01-14T08:20:00+00:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-01-14T00:52:00", "2021-01-14T00:52:00+00:00"),
        ("2021-01-14T00:52:00+08:00", "2021-01-13T16:52:00+00:00"),
        ("2024-01-25T08:14:43Z", "2024-01-25T08:14:43+00:00"),
        ("2021-01-14", "2021-01-14T00:00:00+00:00"),
        (1610612400, "2021-01-14T08:20:00+00:00"),
    ],
)
def test_times(value, expected):
    """A time without a zone is taken as UTC."""
    assert parse_time(value).astimezone(dt_timezone.utc).isoformat() == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", "2021-13-45T99:00:00", [], {}, True])
def test_unreadable_times_are_none(value):
    assert parse_time(value) is None


def test_tracking_numbers_are_compared_without_spaces_dashes_or_case():
    assert normalize_number(" 1z 999-aa1\t0123 ") == "1Z999AA10123"


# -- signatures ---------------------------------------------------------------------------------------


def request_with(header: str, signature: str, body: bytes):
    return RequestFactory().post("/", data=body, content_type="application/json", headers={header: signature})


def test_aftership_signs_the_raw_body_base64():
    body = raw_fixture("aftership_tracking_update.json")
    provider = AfterShipProvider({"secret": AFTERSHIP_SECRET})
    assert provider.sign(body, AFTERSHIP_SECRET) == aftership_signature(body)
    provider.verify(request_with("aftership-hmac-sha256", aftership_signature(body), body))
    # The same payload with other whitespace is another body.
    reserialized = json.dumps(json.loads(body)).encode()
    with pytest.raises(SignatureError):
        provider.verify(request_with("aftership-hmac-sha256", aftership_signature(body), reserialized))


def test_easypost_keys_with_the_nfkd_form_of_the_secret():
    body = raw_fixture("easypost_tracker_updated.json")
    provider = EasyPostProvider({"secret": EASYPOST_SECRET})
    assert provider.sign(body, EASYPOST_SECRET) == easypost_signature(body)
    assert provider.sign(body, EASYPOST_SECRET) == provider.sign(body, "ep-file-se\u0301cret")
    assert provider.sign(body, EASYPOST_SECRET).startswith("hmac-sha256-hex=")


def test_easypost_matches_easypost_s_own_validate_webhook():
    """EasyPost's client library is the reference: what it accepts, the
    provider accepts, and the other way round."""
    easypost_util = pytest.importorskip("easypost.util")
    errors = pytest.importorskip("easypost.errors")
    body = raw_fixture("easypost_tracker_updated.json")
    signature = EasyPostProvider().sign(body, EASYPOST_SECRET)
    assert easypost_util.validate_webhook(body, {"X-Hmac-Signature": signature}, EASYPOST_SECRET)["id"] == (
        "evt_ad2365c22d1511f0b5364ffbb3e7a1f1"
    )
    with pytest.raises(errors.SignatureVerificationError):
        easypost_util.validate_webhook(body, {"X-Hmac-Signature": signature}, "another secret")
    provider = EasyPostProvider({"secret": EASYPOST_SECRET})
    provider.verify(request_with("X-Hmac-Signature", signature, body))


def test_no_secret_no_webhook():
    body = b"{}"
    for config in (None, {}, {"secret": ""}, {"secret": None}, {"secret": []}):
        provider = AfterShipProvider(config)
        with pytest.raises(SignatureError, match="no webhook secret"):
            provider.verify(request_with("aftership-hmac-sha256", AfterShipProvider().sign(body, ""), body))


def test_the_packaged_providers_and_a_shop_s_own(settings):
    assert set(PACKAGED) == {"aftership", "easypost"}
    assert get_provider("nope") is None
    assert get_provider("aftership").secrets() == []

    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "CARRIER_TRACKING_PROVIDERS": {
            "parcelhub": {"secret": "s", "class": "tests.carrier_tracking.test_providers.ParcelHub"}
        },
    }
    provider = get_provider("parcelhub")
    assert isinstance(provider, ParcelHub) and provider.name == "parcelhub" and provider.secrets() == ["s"]
    with pytest.raises(PayloadError):
        provider.updates({})


class ParcelHub(BaseProvider):
    """A provider of a shop's own: only the differences are written."""

    label = "ParcelHub"
    signature_header = "X-ParcelHub-Signature"

    def sign(self, body, secret):
        return secret

    def updates(self, payload):
        raise PayloadError("ParcelHub sends nothing this test understands")


def test_stages_never_go_backwards():
    assert moves_forward("", None, S.IN_TRANSIT, None) == (True, "")
    assert moves_forward(S.OUT_FOR_DELIVERY, None, S.IN_TRANSIT, None)[0] is False
    assert moves_forward(S.DELIVERED, None, S.RETURNED_TO_SENDER, None)[0] is False
    assert moves_forward(S.RETURNED_TO_SENDER, None, S.DELIVERED, None)[0] is False
    assert moves_forward(S.CUSTOMS_HOLD, None, S.IN_TRANSIT, None)[0] is True  # cleared customs
    assert set(STAGE) == set(S.values)
