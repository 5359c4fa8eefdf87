"""System checks of ORDER_MAIL (checks.py)."""

import pytest
from django.test import override_settings

from django_order_mail.checks import check_installed, check_settings, check_templates

VALID = {
    "SITE_URL": "https://shop.example",
    "FROM_EMAIL": "orders@shop.example",
}


def ids(**order_mail):
    with override_settings(ORDER_MAIL={**VALID, **order_mail}):
        return [e.id for e in check_settings()]


def test_valid_settings_give_no_errors():
    assert ids() == []
    assert (
        ids(
            MAX_ATTEMPTS=3,
            DISABLED_EVENTS=["refund"],
            CHANNELS={"shopify_pos": {"events": ["order_confirmation"]}},
            CARRIERS={"bring": {"name": "Bring", "url": "https://bring.example/{tracking_number}"}},
        )
        == []
    )


def test_project_settings_pass():
    assert check_settings() == []


def test_not_a_dict():
    with override_settings(ORDER_MAIL=["SITE_URL"]):
        assert [e.id for e in check_settings()] == ["django_order_mail.E001"]


def test_unknown_key():
    with override_settings(ORDER_MAIL={**VALID, "MAX_ATTEMTPS": 3}):
        [error] = check_settings()
    assert error.id == "django_order_mail.E002"
    assert "MAX_ATTEMTPS" in error.msg


@pytest.mark.parametrize("value", [-1, 1.5, True, None, "8"])
def test_bad_ints(value):
    assert ids(MAX_ATTEMPTS=value) == ["django_order_mail.E003"]
    assert ids(SWEEP_BATCH_SIZE=value) == ["django_order_mail.E003"]


def test_zero_max_attempts():
    assert ids(MAX_ATTEMPTS=0) == ["django_order_mail.E003"]


def test_non_int_backoff_max_is_reported_not_crashing():
    assert ids(RETRY_BACKOFF_MAX="600") == ["django_order_mail.E003"]


def test_channel_rules_not_a_dict_is_reported_not_crashing():
    assert ids(CHANNELS={"ebay": ["refund"]}) == ["django_order_mail.E005"]


def test_backoff_max_above_visibility_timeout_warns():
    assert ids(RETRY_BACKOFF_MAX=3600) == ["django_order_mail.W001"]


def test_unknown_disabled_event():
    with override_settings(ORDER_MAIL={**VALID, "DISABLED_EVENTS": ["refund", "refunds"]}):
        [error] = check_settings()
    assert error.id == "django_order_mail.E004"
    assert "'refunds'" in error.msg


def test_unknown_channel_event():
    assert ids(CHANNELS={"ebay": {"events": ["shiping_confirmation"]}}) == ["django_order_mail.E004"]


def test_channels_not_a_dict():
    assert "django_order_mail.E005" in ids(CHANNELS=["ebay"])


def test_default_channel_without_rules_warns():
    assert ids(DEFAULT_CHANNEL="ebay") == ["django_order_mail.W002"]
    assert ids(DEFAULT_CHANNEL="ebay", CHANNELS={"ebay": {}}) == []


@pytest.mark.parametrize(
    "carrier",
    [
        {"name": "Bring", "url": "https://bring.example/track"},
        {"name": "Bring", "url": "https://bring.example/{tracking}"},
        {"name": "Bring"},
        None,
    ],
)
def test_carrier_url_without_placeholder(carrier):
    assert ids(CARRIERS={"bring": carrier}) == ["django_order_mail.E006"]


@pytest.mark.parametrize("site", ["shop.example", "/", "ftp://shop.example", ""])
def test_site_url_must_be_absolute(site):
    assert ids(SITE_URL=site) == ["django_order_mail.E007"]


def test_from_address_warning():
    with override_settings(
        ORDER_MAIL={"SITE_URL": "https://shop.example"}, DEFAULT_FROM_EMAIL="webmaster@localhost"
    ):
        assert [e.id for e in check_settings()] == ["django_order_mail.W003"]


def test_several_errors_are_all_reported():
    found = ids(NOPE=1, MAX_ATTEMPTS=-2, DISABLED_EVENTS=["x"], SITE_URL="shop")
    assert sorted(found) == [
        "django_order_mail.E002",
        "django_order_mail.E003",
        "django_order_mail.E004",
        "django_order_mail.E007",
    ]


def test_templates_check_passes_for_packaged_templates():
    assert check_templates() == []


def test_templates_check_reports_a_missing_template(monkeypatch):
    from django.template import TemplateDoesNotExist

    import django_order_mail.checks as checks

    real = checks.get_template

    def get_template(name):
        if name.endswith("/refund.email"):
            raise TemplateDoesNotExist(name)
        return real(name)

    monkeypatch.setattr(checks, "get_template", get_template)
    [error] = check_templates()
    assert error.id == "django_order_mail.E008"
    assert "'refund'" in error.msg
    with override_settings(ORDER_MAIL={**VALID, "DISABLED_EVENTS": ["refund"]}):
        assert check_templates() == []


def test_installed_check():
    assert check_installed() == []


@pytest.mark.parametrize(
    "cap, expected",
    [
        ({"max": "1"}, ["django_order_mail.E406"]),
        ({"max": 1, "defer": ["order_confirmation"]}, ["django_order_mail.E406"]),
        ({"max": 1, "hours": 0}, ["django_order_mail.E406"]),
        ({"max": 1, "hours": 24, "defer": ["feedback_request"]}, []),
        (None, []),
    ],
)
def test_the_frequency_cap_is_checked_by_the_core(settings, cap, expected):
    """The cap is the core's (every commercial email obeys it, whichever app wrote it)."""
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "COMMERCIAL_FREQUENCY_CAP": cap}
    assert [e.id for e in check_settings() if e.id.endswith("E406")] == expected
