"""Review-request wording rules (feedback/compliance.py) and the feedback
system checks (feedback/checks.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from django_order_mail.feedback.checks import check_feedback_settings, check_review_request_templates
from django_order_mail.feedback.compliance import (
    GATING,
    INCENTIVE,
    POSITIVE,
    check_review_request,
    check_text,
    rule_language,
    validate_review_request,
)

#: (language, kind, text): each must be found with that language's rules.
BAD = [
    ("en", POSITIVE, "Please leave us a 5-star review!"),
    ("en", POSITIVE, "We would love a positive review of the socks."),
    ("en", POSITIVE, "Rate us five stars"),
    ("en", GATING, "If you're happy with your purchase, please leave a review."),
    ("en", INCENTIVE, "Get a 10% discount on your next order for your review."),
    ("en", INCENTIVE, "Review it and we will send you a free gift."),
    ("en", INCENTIVE, "Write a review in exchange for a full refund."),
    ("zh-hans", POSITIVE, "请给我们五星好评"),
    ("zh-hans", GATING, "如果您满意，请给我们留下评论"),
    ("zh-hans", INCENTIVE, "留下评论即可获得优惠券"),
    ("zh-hans", INCENTIVE, "评价后返现5元"),
    ("zh-hant", POSITIVE, "請給我們五星好評"),
    ("zh-hant", INCENTIVE, "評論後送您免費禮品"),
    ("ru", POSITIVE, "Пожалуйста, оставьте положительный отзыв"),
    ("ru", POSITIVE, "Поставьте нам 5 звёзд"),
    ("ru", INCENTIVE, "Получите скидку 10% за отзыв"),
    ("ru", INCENTIVE, "Подарок за отзыв!"),
    ("nb", POSITIVE, "Gi oss gjerne en positiv anmeldelse"),
    ("nb", POSITIVE, "Vi håper på 5 stjerner"),
    ("nb", INCENTIVE, "Få 15 % rabatt på neste kjøp"),
    ("nb", INCENTIVE, "Du får et gavekort når du skriver en anmeldelse"),
    ("de", POSITIVE, "Wir freuen uns über eine 5-Sterne-Bewertung"),
    ("de", POSITIVE, "Bitte hinterlassen Sie eine positive Bewertung"),
    ("de", GATING, "Wenn Sie zufrieden sind, bewerten Sie uns bitte"),
    ("de", INCENTIVE, "Als Dankeschön erhalten Sie einen Gutschein"),
    ("fr", POSITIVE, "Laissez-nous un avis positif"),
    ("fr", POSITIVE, "Donnez-nous 5 étoiles"),
    ("fr", GATING, "Si vous êtes satisfait, laissez un avis"),
    ("fr", INCENTIVE, "Recevez un code promo pour votre avis"),
    ("es", POSITIVE, "Déjenos una reseña positiva"),
    ("es", POSITIVE, "Valórenos con 5 estrellas"),
    ("es", GATING, "Si está satisfecho, deje una reseña"),
    ("es", INCENTIVE, "Obtenga un descuento del 10 % por su opinión"),
]

#: Honest review requests in every language: nothing to find.
HONEST = [
    ("en", "Please share your honest opinion, good or bad. Every review helps other customers choose."),
    ("zh-hans", "请您分享真实的使用体验，无论好坏，都对其他买家很有帮助。"),
    ("zh-hans", "如果您对产品不满意，请联系我们。"),
    ("zh-hant", "請分享您真實的使用體驗，無論好壞都歡迎。"),
    ("ru", "Пожалуйста, поделитесь честным мнением о покупке — хорошим или плохим."),
    ("nb", "Vi setter pris på en ærlig anmeldelse, enten opplevelsen var god eller dårlig."),
    ("de", "Bitte teilen Sie Ihre ehrliche Meinung mit anderen Kunden, ob gut oder schlecht."),
    ("fr", "Partagez votre avis honnête, qu'il soit bon ou mauvais."),
    ("es", "Comparta su opinión sincera, sea buena o mala. Feel free to reply."),
]


@pytest.mark.parametrize(("language", "kind", "text"), BAD)
def test_forbidden_wording_is_found(language, kind, text):
    kinds = {f.kind for f in check_text(text, [language])}
    assert kind in kinds
    assert kind in {f.kind for f in check_text(text)}  # all languages at once


@pytest.mark.parametrize(("language", "text"), HONEST)
def test_honest_wording_passes(language, text):
    assert check_text(text, [language]) == []
    assert check_text(text) == []


def test_markup_entities_full_width_and_template_variables_are_seen_through():
    assert check_text("<b>5</b>&nbsp;stars")
    assert check_text("５星好评")
    assert {f.kind for f in check_text("Use {{ discount_code }} at checkout")} == {INCENTIVE}


def test_findings_carry_a_readable_message():
    [finding] = check_text("We hope for a positive review.", ["en"])
    assert finding.phrase == "positive review"
    assert "honest review" in finding.message


@pytest.mark.parametrize(
    ("code", "rules"),
    [
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("zh-Hans", "zh-hans"),
        ("zh_TW", "zh-hant"),
        ("de-AT", "de"),
        ("ja", None),
    ],
)
def test_language_codes_map_to_rule_sets(code, rules):
    assert rule_language(code) == rules


def test_validate_for_the_template_editor(db):
    bad = "Leave a 5-star review and get a coupon!"
    with pytest.raises(ValidationError) as raised:
        validate_review_request(bad, channel="amazon_fba", language="en")
    assert {e.code for e in raised.value.error_list} == {"review_positive", "review_incentive"}
    # A template for every channel also applies to the marketplace ones.
    with pytest.raises(ValidationError):
        validate_review_request(bad, channel="")
    validate_review_request(bad, channel="web")  # the shop's own channel: not refused
    assert check_review_request(bad, channel="web") == []


def test_project_channel_marked_as_marketplace(db, mail_settings):
    mail_settings(CHANNELS={"etsy": {"marketplace": True}})
    assert check_review_request("Rate us 5 stars", channel="etsy")


# -- system checks over templates ----------------------------------------------------------------------------


def test_packaged_templates_pass(db, mail_settings):
    assert check_review_request_templates() == []
    mail_settings(FEEDBACK_SCALE="nps", LANGUAGES=["en", "nb", "de"])
    assert check_review_request_templates() == []


@pytest.fixture
def project_templates(settings, tmp_path):
    """A project template directory searched before the packaged templates."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]

    def write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write


OVERRIDE = (
    '{% extends "django_order_mail/email/feedback_request.email" %}'
    "{% block html_body %}<p>{{ body }}</p>{% endblock %}"
)


def test_marketplace_channel_template_asking_for_stars_is_an_error(db, project_templates):
    project_templates(
        "django_order_mail/email/amazon_fba/feedback_request.email",
        OVERRIDE.replace("{{ body }}", "Please leave a 5-star review and get a coupon!"),
    )
    found = check_review_request_templates()
    assert {m.id for m in found} == {"django_order_mail.E101"}
    text = " ".join(m.msg for m in found)
    assert "amazon_fba" in text and "“5-star”" in text and "“coupon”" in text


def test_own_channel_template_gets_a_warning(db, project_templates):
    project_templates(
        "django_order_mail/email/feedback_request.email",
        "{% block subject %}Review us{% endblock %}"
        "{% block plain %}Get 20% off for a positive review{% endblock %}",
    )
    found = check_review_request_templates()
    ids = {(m.id, m.msg.split("'")[1]) for m in found}
    # The shared template is used by every channel: errors for marketplaces, warnings elsewhere.
    assert ("django_order_mail.W101", "web") in ids
    assert ("django_order_mail.E101", "amazon_fba") in ids


def test_wording_reached_only_by_rendering_is_checked_per_language(db, project_templates, mail_settings):
    mail_settings(LANGUAGES=["en", "de"])
    project_templates(
        "promo_de.txt",
        "{% load i18n %}{% get_current_language as lang %}"
        "{% if lang == 'de' %}Als Dankeschön: ein Gutschein{% endif %}",
    )
    project_templates(
        "django_order_mail/email/amazon_fbm/feedback_request.email",
        OVERRIDE.replace("{{ body }}", '{% include "promo_de.txt" %}'),
    )
    found = check_review_request_templates()
    assert found and all(m.id == "django_order_mail.E101" for m in found)
    assert any("gutschein" in m.msg for m in found)


def test_disabled_feedback_event_is_not_checked(db, project_templates, mail_settings):
    project_templates(
        "django_order_mail/email/amazon_fba/feedback_request.email",
        OVERRIDE.replace("{{ body }}", "5 stars!"),
    )
    mail_settings(DISABLED_EVENTS=["feedback_request"])
    assert check_review_request_templates() == []


# -- system checks over settings -----------------------------------------------------------------------------

VALID = {"SITE_URL": "https://shop.example", "BRANDING": {"support_email": "help@shop.example"}}


def ids(**order_mail):
    with override_settings(ORDER_MAIL={**VALID, **order_mail}):
        return sorted(m.id for m in check_feedback_settings())


def test_valid_feedback_settings(db):
    assert ids() == []
    assert (
        ids(
            FEEDBACK_SCALE="nps",
            FEEDBACK_LOW_SCORE={"nps": 5},
            FEEDBACK_QUESTIONS=[{"id": "x", "label": "X?", "type": "yes_no"}],
            FEEDBACK_RATE_LIMIT={"ip": None},
            FEEDBACK_ALERT_DELAY=0,
            CHANNELS={
                "amazon_fba": {"review_url": "https://amazon.example/{sku}", "feedback_delay_days": 30}
            },
        )
        == []
    )


@pytest.mark.parametrize(
    ("settings_", "expected"),
    [
        ({"FEEDBACK_SCALE": "stars"}, "E103"),
        ({"FEEDBACK_QUESTIONS": "arrived?"}, "E104"),
        ({"FEEDBACK_QUESTIONS": [{"label": "no id"}]}, "E104"),
        ({"FEEDBACK_QUESTIONS": [{"id": "a"}, {"id": "a"}]}, "E104"),
        ({"FEEDBACK_QUESTIONS": [{"id": "a", "type": "choice"}]}, "E104"),
        ({"FEEDBACK_LOW_SCORE": {"csat": "2"}}, "E105"),
        ({"FEEDBACK_RATE_LIMIT": {"tokens": 3}}, "E105"),
        ({"FEEDBACK_ALERT_DELAY": -1}, "E105"),
        ({"CHANNELS": {"web": {"feedback": "stars"}}}, "E106"),
        (
            {"CHANNELS": {"amazon_fba": {"feedback_delay_days": 40, "review_url": "https://a.example"}}},
            "E102",
        ),
        ({"FEEDBACK_DELAY_DAYS": 2}, "W104"),
        ({"BRANDING": {}}, "W102"),
        ({"CHANNELS": {"amazon_fbm": {}}}, "I101"),
    ],
)
def test_feedback_setting_mistakes(db, settings_, expected):
    assert f"django_order_mail.{expected}" in ids(**settings_)


@pytest.mark.parametrize("channels", [["amazon_fba"], {"amazon_fba": ["feedback_request"]}])
def test_malformed_channels_are_left_to_the_core_check(db, channels):
    assert ids(CHANNELS=channels) == []
    with override_settings(ORDER_MAIL={**VALID, "CHANNELS": channels}):
        assert check_review_request_templates() == []


def test_unused_packaged_amazon_channels_do_not_nag(db):
    assert ids() == []  # no review_url for amazon, but the project does not sell there
