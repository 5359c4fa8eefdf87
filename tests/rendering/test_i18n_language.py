"""Which language an email is written in: the fallback chain of
``rendering.i18n.resolve_language`` (docs/translating.rst), through the real
rendering pipeline."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_order_mail.checks import check_settings
from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.i18n import fallback_chain, normalize, resolve_language
from django_order_mail.rendering.render import render_outbox_email
from django_order_mail.rendering.render import resolve_language as render_resolve_language
from tests.factories import OrderFactory

SHOP_LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("nb", "Norsk bokmål"),
    ("ru", "Русский"),
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("pt-br", "Português (Brasil)"),
]


@pytest.fixture
def shop_languages(settings):
    settings.LANGUAGES = SHOP_LANGUAGES
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh_Hant_HK", "zh-hant-hk"),
        (" zh-HK ", "zh-hk"),
        ("nb_NO", "nb-no"),
        ("", ""),
        (None, ""),
    ],
)
def test_codes_are_normalised(code, expected):
    assert normalize(code) == expected


@pytest.mark.parametrize(
    ("order_language", "expected"),
    [
        # Chinese by script: Hong Kong, Macau and Taiwan read Traditional characters.
        ("zh-hk", "zh-hant"),
        ("zh-HK", "zh-hant"),
        ("zh_Hant_TW", "zh-hant"),
        ("zh-mo", "zh-hant"),
        ("zh-tw", "zh-hant"),
        ("zh-cn", "zh-hans"),
        ("zh-sg", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh", "zh-hans"),
        # Norwegian: Nynorsk and the macro-language get Bokmål.
        ("nn", "nb"),
        ("no", "nb"),
        ("nb-NO", "nb"),
        # Regional variants: base language, or a sibling variant of it.
        ("de-AT", "de"),
        ("de-CH", "de"),
        ("pt", "pt-br"),
        ("pt-PT", "pt-br"),
        ("ru-RU", "ru"),
        # Nothing close: LANGUAGE_CODE.
        ("fr-CA", "en"),
        ("xx", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_closest_supported_language_wins(shop_languages, order_language, expected):
    assert resolve_language(order_language) == expected
    assert render_resolve_language(order_language) == expected


def test_the_chain_is_variant_then_base_then_language_code_then_english(settings):
    settings.LANGUAGE_CODE = "de"
    assert fallback_chain("zh-hk") == ["zh-hk", "zh-hant", "zh", "zh-hans", "zh-*", "de", "en"]
    assert fallback_chain("nn") == ["nn", "nb", "no", "nn-*", "de", "en"]


def test_language_code_then_english_when_nothing_else_fits(settings):
    settings.LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    settings.LANGUAGE_CODE = "de"
    assert resolve_language("ja") == "de"
    settings.LANGUAGE_CODE = "sv"  # not offered: English is the last resort
    assert resolve_language("ja") == "en"


def test_order_mail_languages_restrict_what_settings_languages_offer(shop_languages, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "LANGUAGES": ["en", "nb"]}
    assert resolve_language("de") == "en"  # in settings.LANGUAGES, not in ORDER_MAIL
    assert resolve_language("no") == "nb"
    assert resolve_language("zh-hk") == "en"


def test_the_project_adds_its_own_steps(shop_languages, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "LANGUAGE_FALLBACKS": {"gsw": ["de"], "zh-hk": "zh-hans"}}
    assert resolve_language("gsw-CH") == "de"
    assert resolve_language("zh-HK") == "zh-hans"  # the project's step comes before the packaged one
    assert resolve_language("zh-tw") == "zh-hant"


def test_malformed_project_steps_are_ignored(shop_languages, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "LANGUAGE_FALLBACKS": ["de"]}
    assert resolve_language("zh-hk") == "zh-hant"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "LANGUAGE_FALLBACKS": {"gsw": 7}}
    assert resolve_language("gsw") == "en"


def test_the_project_spelling_of_a_code_is_kept(settings):
    settings.LANGUAGES = [("en", "English"), ("zh-Hant", "繁體中文")]
    assert resolve_language("zh-hk") == "zh-Hant"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("order_language", "language", "subject"),
    [
        ("zh-HK", "zh-hant", "您的訂單 {number} 已取消"),
        ("zh-SG", "zh-hans", "您的订单 {number} 已取消"),
        ("nn", "nb", "Bestillingen din {number} er kansellert"),
        ("de-AT", "de", "Ihre Bestellung {number} wurde storniert"),
        ("ru-UA", "ru", "Ваш заказ {number} отменён"),
        ("ja", "en", "Your order {number} has been cancelled"),
    ],
)
def test_an_order_is_emailed_in_its_closest_language(shop_languages, order_language, language, subject):
    """From the order's language field through the outbox row to the email."""
    order = OrderFactory(state="awaiting_shipment", language=order_language)
    order.cancel(reason="Out of stock")
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.CANCELLATION)
    assert row.language == order_language  # stored as the shop gave it, resolved when rendered
    rendered = render_outbox_email(row, order)
    assert rendered.language == language
    assert rendered.subject == subject.format(number=order.number)
    assert f'<html lang="{language}"' in rendered.html


@pytest.mark.django_db
def test_an_order_can_override_its_mail_language(shop_languages, monkeypatch):
    order = OrderFactory(state="awaiting_shipment", language="en")
    monkeypatch.setattr(type(order), "get_mail_language", lambda self: "zh-TW")
    order.cancel(reason="Out of stock")
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.CANCELLATION)
    assert render_outbox_email(row, order).language == "zh-hant"


@override_settings(LANGUAGES=[("en", "English")], LANGUAGE_CODE="en")
def test_only_english_offered():
    assert resolve_language("zh-hk") == "en"


@pytest.mark.parametrize(
    "order_mail",
    [
        {"LANGUAGE_FALLBACKS": ["de"]},
        {"LANGUAGE_FALLBACKS": {"gsw": 7}},
        {"LANGUAGE_FALLBACKS": {"gsw": ["de", ""]}},
        {"LANGUAGES": "en,de"},
        {"LANGUAGES": ["en", 7]},
    ],
)
def test_malformed_language_settings_are_reported_at_start_up(settings, order_mail):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, **order_mail}
    assert "django_order_mail.E010" in {e.id for e in check_settings()}


def test_well_formed_language_settings_pass_the_check(settings):
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "LANGUAGES": ["en", ("nb", "Norsk")],
        "LANGUAGE_FALLBACKS": {"gsw": ["de"], "ca": "es"},
    }
    assert "django_order_mail.E010" not in {e.id for e in check_settings()}
