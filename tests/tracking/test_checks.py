"""Deliverability system checks W601-W603 (tracking/checks.py via checks.py)."""

import pytest
from django.core.checks import ERROR, WARNING, run_checks

from django_order_mail.tracking.checks import (
    aligned,
    check_deliverability,
    check_webhook_credentials_for_deploy,
    org_domain,
)


def ids():
    return [w.id for w in check_deliverability()]


@pytest.fixture
def clean(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "user:pass"}
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "FROM_EMAIL": "Shop <orders@shop.example>"}
    return settings


def test_clean_settings_give_no_warning(clean):
    assert ids() == []


def test_missing_webhook_secret_is_an_error_with_debug_off(clean):
    """DEBUG = False: the receiver refuses every unauthenticated webhook."""
    clean.ANYMAIL = {}
    clean.DEBUG = False
    [error] = check_deliverability()
    assert (error.id, error.level) == ("django_order_mail.E601", ERROR)
    assert "refused" in error.msg
    clean.ANYMAIL_WEBHOOK_SECRET = "user:pass"  # the flat Anymail setting counts too
    assert ids() == []


def test_missing_webhook_secret_is_a_deploy_warning_with_debug_on(clean):
    """In development the warning would print on every manage.py command:
    it is a ``check --deploy`` warning (issue: five times per command)."""
    clean.ANYMAIL = {}
    clean.DEBUG = True
    assert check_deliverability() == []
    [warning] = check_webhook_credentials_for_deploy()
    assert (warning.id, warning.level) == ("django_order_mail.W601", WARNING)
    assert "django_order_mail.W601" not in [str(m.id) for m in run_checks()]
    assert "django_order_mail.W601" in [str(m.id) for m in run_checks(include_deployment_checks=True)]


@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_the_signing_key_of_the_esp_in_use_counts_as_credentials(clean):
    clean.ANYMAIL = {}
    clean.DEBUG = False
    clean.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    assert ids() == ["django_order_mail.E601"]  # Mailgun without a key: its webhook fails
    clean.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": "key-from-mailgun"}
    assert ids() == []
    # Postmark signs nothing: only the basic-auth secret counts.
    clean.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    clean.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "token"}
    assert ids() == ["django_order_mail.E601"]


@pytest.mark.parametrize(
    ("sending_domain", "warned"),
    [("shop.example", False), ("mail.shop.example", False), ("esp-mail.example", True)],
)
def test_from_domain_must_align_with_the_esp_sending_domain(clean, sending_domain, warned):
    clean.ORDER_MAIL = {**clean.ORDER_MAIL, "SENDING_DOMAIN": sending_domain}
    assert ids() == (["django_order_mail.W602"] if warned else [])


def test_mailgun_sender_domain_is_used_when_no_sending_domain_is_set(clean):
    clean.ANYMAIL = {**clean.ANYMAIL, "MAILGUN_SENDER_DOMAIN": "mg.other.example"}
    assert ids() == ["django_order_mail.W602"]


def test_language_without_translation_warns(clean, tmp_path):
    clean.ORDER_MAIL = {**clean.ORDER_MAIL, "LANGUAGES": ["en", "fi", "pl"], "DISABLED_EVENTS": ["refund"]}
    warnings = check_deliverability()
    assert [w.id for w in warnings] == ["django_order_mail.W603"] * 2
    assert "'fi'" in warnings[0].msg and "refund" not in warnings[0].msg
    assert "order_confirmation" in warnings[0].msg
    # A catalogue in LOCALE_PATHS is enough.
    for code in ("fi", "pl"):
        catalogue = tmp_path / code / "LC_MESSAGES"
        catalogue.mkdir(parents=True)
        (catalogue / "django.mo").write_bytes(b"")
    clean.LOCALE_PATHS = [str(tmp_path)]
    assert ids() == []


def test_project_languages_are_used_when_order_mail_has_none(clean):
    clean.LANGUAGES = [("en", "English"), ("it", "Italian")]
    assert ids() == ["django_order_mail.W603"]


def test_alignment_helpers():
    assert org_domain("a.b.shop.example") == "shop.example"
    assert org_domain("mail.shop.co.uk") == "shop.co.uk"
    assert aligned("shop.example", "bounce.shop.example")
    assert not aligned("shop.example", "bounce.shop.example", strict=True)
    assert not aligned("shop.example", "shop.example.net")


def test_no_webhook_warning_when_the_webhooks_are_not_routed(clean):
    clean.ANYMAIL = {}
    clean.ROOT_URLCONF = "django_order_mail.urls"  # no anymail.urls in it
    assert ids() == []
