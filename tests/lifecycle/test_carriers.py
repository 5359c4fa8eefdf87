"""Carrier registry and tracking links (lifecycle/carriers.py, shipments.py)."""

from urllib.parse import quote

import pytest

from django_order_mail.lifecycle.carriers import CARRIERS, carrier_choices, get_carrier
from django_order_mail.lifecycle.shipments import Shipment


@pytest.mark.parametrize("code", sorted(CARRIERS))
def test_every_packaged_carrier_builds_a_link_with_the_quoted_number(code):
    number = "AB 12/34?x=1&y#z"
    url = get_carrier(code).tracking_url(number)
    assert url.startswith("https://")
    assert quote(number, safe="") in url
    assert number not in url
    assert "{" not in url


def test_tracking_number_is_stripped_and_empty_gives_no_link():
    assert get_carrier("ups").tracking_url("  1Z999  ") == "https://www.ups.com/track?tracknum=1Z999"
    assert get_carrier("ups").tracking_url("") == ""


def test_code_is_case_and_space_insensitive():
    carrier = get_carrier(" UPS ")
    assert carrier.code == "ups"
    assert carrier.name == "UPS"


def test_unknown_code_falls_back_to_other():
    carrier = get_carrier("Bring Cargo")
    assert carrier.url == CARRIERS["other"]["url"]
    assert carrier.name == "Bring Cargo"
    assert carrier.tracking_url("X1") == "https://t.17track.net/en#nums=X1"
    assert get_carrier("").url == CARRIERS["other"]["url"]


def test_project_can_add_and_override_carriers(mail_settings):
    mail_settings(
        CARRIERS={
            "bring": {"name": "Bring", "url": "https://tracking.bring.com/tracking/{tracking_number}"},
            "ups": {"name": "UPS Norge", "url": "https://ups.example/no/{tracking_number}"},
        }
    )
    assert get_carrier("bring").tracking_url("7 0") == "https://tracking.bring.com/tracking/7%200"
    assert get_carrier("ups").name == "UPS Norge"
    assert get_carrier("ups").tracking_url("1Z") == "https://ups.example/no/1Z"
    assert get_carrier("fedex").name == "FedEx"  # the rest of the registry stays
    assert ("bring", "Bring") in carrier_choices()


def test_override_is_undone_with_the_setting(mail_settings):
    mail_settings(CARRIERS={"ups": {"name": "X", "url": "https://x.example/{tracking_number}"}})
    assert get_carrier("ups").name == "X"


def test_override_did_not_leak():
    assert get_carrier("ups").name == "UPS"


def test_carrier_choices_are_sorted_by_name():
    names = [name for _code, name in carrier_choices()]
    assert names == sorted(names)
    assert ("dhl", "DHL Express") in carrier_choices()


@pytest.mark.django_db
def test_shipment_uses_registry_or_its_own_url(order):
    shipment = order.add_shipment("dhl", "JD 1")
    assert shipment.get_tracking_url().endswith("tracking-id=JD%201")
    assert shipment.carrier_name == "DHL Express"
    assert str(shipment) == "DHL Express JD 1"
    shipment.tracking_url = "https://my.tracker.example/JD1"
    assert shipment.get_tracking_url() == "https://my.tracker.example/JD1"
    assert list(Shipment.for_order(order)) == [shipment]
    assert list(order.shipments) == [shipment]
