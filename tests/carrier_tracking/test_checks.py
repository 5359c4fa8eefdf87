"""System checks of the carrier-tracking app (E701-E703, W701-W702)."""

from __future__ import annotations

import pytest

from django_order_mail.carrier_tracking.checks import check_carrier_tracking

VALID = {
    "SITE_URL": "https://shop.example",
    "BRANDING": {"name": "Shop", "support_email": "help@shop.example"},
}


@pytest.fixture
def ids(settings):
    def run(*, debug=False, **order_mail):
        settings.DEBUG = debug
        settings.ORDER_MAIL = {**VALID, **order_mail}
        return [message.id.rpartition(".")[2] for message in check_carrier_tracking()]

    return run


def test_the_defaults_and_a_full_setup_are_clean(ids):
    assert ids() == []
    assert (
        ids(
            CARRIER_TRACKING_PROVIDERS={"aftership": {"secret": "a"}, "easypost": {"secret": ["old", "new"]}},
            CARRIER_TRACKING_STALE_DAYS=3,
            CARRIER_TRACKING_STALE_LOOKBACK_DAYS=30,
            CARRIER_TRACKING_DIGEST_EMAIL="logistics@shop.example",
        )
        == []
    )


def test_the_test_settings_are_clean(settings):
    assert check_carrier_tracking() == []


@pytest.mark.parametrize("config", [{}, {"secret": ""}, {"secret": None}, {"secret": []}])
def test_an_enabled_provider_without_a_secret(ids, config):
    """An error in production (its webhooks are refused), a warning with DEBUG."""
    assert ids(CARRIER_TRACKING_PROVIDERS={"aftership": config}) == ["E701"]
    assert ids(debug=True, CARRIER_TRACKING_PROVIDERS={"easypost": config}) == ["W701"]


@pytest.mark.parametrize(
    "providers",
    [
        ["aftership"],
        {"aftership": "secret"},
        {"shippo": {"secret": "x"}},
        {"aftership": {"secret": 42}},
        {"aftership": {"secret": ["ok", 1]}},
        {"mine": {"secret": "x", "class": "no.such.Provider"}},
        {"mine": {"secret": "x", "class": "django_order_mail.carrier_tracking.models.CarrierEvent"}},
    ],
)
def test_a_broken_provider_setting(ids, providers):
    assert ids(CARRIER_TRACKING_PROVIDERS=providers) == ["E702"]


def test_a_provider_of_the_shops_own(ids):
    own = {"secret": "x", "class": "django_order_mail.carrier_tracking.providers.aftership.AfterShipProvider"}
    assert ids(CARRIER_TRACKING_PROVIDERS={"parcelhub": own}) == []


@pytest.mark.parametrize(
    "values",
    [
        {"CARRIER_TRACKING_STALE_DAYS": 0},
        {"CARRIER_TRACKING_STALE_DAYS": "5"},
        {"CARRIER_TRACKING_STALE_DAYS": True},
        {"CARRIER_TRACKING_STALE_LOOKBACK_DAYS": -1},
        {"CARRIER_TRACKING_DIGEST_EMAIL": "not an address"},
        {"CARRIER_TRACKING_DIGEST_EMAIL": 7},
    ],
)
def test_bad_numbers_and_addresses(ids, values):
    assert ids(**values) == ["E703"]


def test_no_address_for_the_digest(ids):
    assert ids(BRANDING={"name": "Shop"}) == ["W702"]
    assert ids(BRANDING={"name": "Shop"}, CARRIER_TRACKING_DIGEST_EMAIL="ops@shop.example") == []
    assert ids(BRANDING={"name": "Shop"}, DISABLED_EVENTS=["stale_shipments_digest"]) == []
