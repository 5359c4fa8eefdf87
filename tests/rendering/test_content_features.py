"""Email texts for the feature apps' emails and a shop's own: the feedback
request, the review reminder, the abandoned-cart reminder, the delivery
exception and the shop's "ready for pickup" have text fields, registered
through the core's registry (``register_text_fields``) from the apps'
``ready()``: their codes are no variables, their own rules refuse what they
must, an edit changes only the variant the fields are for, and a step's
subject still wins over the reminder's subject field."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from django_order_mail.carrier_tracking.events import exception_context
from django_order_mail.delivery.sender import deliver
from django_order_mail.rendering.content_registry import (
    register_text_fields,
    text_fields,
    unregister_text_fields,
)
from django_order_mail.rendering.content_slots import event_slots, packaged_texts
from django_order_mail.rendering.content_validation import offered_variables, validate_text, validate_texts
from django_order_mail.rendering.models import EmailContent
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context, sample_extra
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.carts.staff_helpers import save_sequence

pytestmark = pytest.mark.django_db

SHIPPED = ["en", "de", "es", "fr", "nb", "ru", "zh-hans", "zh-hant"]
FEATURE_EMAILS = {
    "feedback_request": ["subject", "preheader", "headline", "intro", "button", "closing"],
    "review_reminder": ["subject", "preheader", "headline", "intro", "closing"],
    "abandoned_cart": ["subject", "preheader", "headline", "intro", "button", "closing"],
    "delivery_exception": ["subject", "preheader", "headline", "intro", "button", "footer_note"],
    # the shop's own email (tests/testapp), registered as a shop would
    "ready_for_pickup": ["subject", "preheader", "intro", "footer_note"],
}


def headline(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)


def edit(event, slot, text, language="de"):
    return EmailContent.objects.create(event=event, language=language, slot=slot, text=text)


def render(event, language="de", **context):
    return render_event(event, {**sample_context(event), **context}, language=language)


# -- which fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "fields"), FEATURE_EMAILS.items())
def test_each_feature_email_has_its_fields(event, fields):
    assert [slot.name for slot in event_slots(event)] == fields


@pytest.mark.parametrize("language", SHIPPED)
@pytest.mark.parametrize("event", FEATURE_EMAILS)
def test_every_packaged_text_passes_the_editors_checks(event, language):
    """ "Start from the packaged text" never gives a text the editor refuses,
    the honest-wording rules of the feedback request included."""
    texts = {slot: text for slot, text in packaged_texts(event, language).items() if text}
    assert texts
    assert validate_texts(texts, event, language=language) == {}


def test_the_packaged_texts_are_the_translations_with_placeholders():
    cart = packaged_texts("abandoned_cart", "de")
    assert cart["button"] == "Bestellung abschließen"
    assert cart["preheader"] == "{{ first_item }} liegt noch in Ihrem Warenkorb."
    assert cart["intro"] == "Dieser Artikel liegt noch in Ihrem Warenkorb bei {{ shop.name }}:"
    feedback = packaged_texts("feedback_request", "en")
    assert feedback["subject"] == "How was your order {{ order_number }}?"  # the survey's, not the review's
    assert packaged_texts("delivery_exception", "en")["headline"] == (
        "The carrier could not deliver your order {{ order_number }}"
    )
    assert packaged_texts("ready_for_pickup", "en")["preheader"] == "Pick it up at {{ extra.pickup_point }}."


def test_variants_are_announced_plurals_included():
    cart = {slot.name: slot for slot in event_slots("abandoned_cart")}
    assert cart["subject"].has_variants  # by coupon and step
    assert cart["intro"].has_variants  # one item or several
    assert not cart["button"].has_variants
    feedback = {slot.name: slot for slot in event_slots("feedback_request")}
    assert feedback["headline"].has_variants  # NPS or CSAT
    assert not feedback["subject"].has_variants  # the survey's only


# -- variables and rules, registered by the apps ---------------------------------------------


def test_codes_are_no_variables_and_are_refused():
    offered = {chip.path for chip in offered_variables("feedback_request")}
    assert {"order_number", "customer_name", "shop.name"} <= offered
    assert not offered & {"feedback_base", "feedback_scale", "review_request", "marketplace"}
    # the survey also goes to marketplace buyers: no link or address to the shop
    assert not offered & {"feedback_url", "order_url", "shop.website_url", "shop.support_email"}
    assert (
        "{{ feedback_scale }}" in validate_text("intro", "Scale {{ feedback_scale }}", "feedback_request")[0]
    )
    delivery = {chip.path for chip in offered_variables("delivery_exception")}
    assert "shipment.tracking_number" in delivery and "delivery_exception.kind" not in delivery
    cart = {chip.path for chip in offered_variables("abandoned_cart")}
    assert {"first_item", "item_count", "cart_total", "restore_url"} <= cart
    assert (
        validate_text("preheader", "{{ first_item }} wartet auf Sie", "abandoned_cart", language="de") == []
    )


def test_a_shops_own_email_offers_what_its_extra_holds():
    assert sample_extra("ready_for_pickup") == {"pickup_point": "Storgata 15, Oslo"}
    chips = {chip.path: chip for chip in offered_variables("ready_for_pickup", "en")}
    assert chips["extra.pickup_point"].sample == "Storgata 15, Oslo"
    assert validate_text("intro", "Abholung: {{ extra.pickup_point }}", "ready_for_pickup") == []


@pytest.mark.parametrize(
    ("event", "language", "text", "reason"),
    [
        ("feedback_request", "en", "Happy? Leave us 5 stars!", "asks for a positive or top rating"),
        # the field's language's word list; the reason in the staff member's language
        ("feedback_request", "de", "Für Ihre Bewertung gibt es einen Gutschein.", "(“gutschein”)"),
        ("feedback_request", "en", "Only if you are happy, tell us.", "asks only satisfied customers"),
        ("review_reminder", "en", "Review us and get a discount code", "offers something in exchange"),
    ],
)
def test_review_wording_is_refused_with_the_reason(event, language, text, reason):
    [problem] = validate_text("intro", text, event, language=language)[:1]
    assert reason in problem


def test_the_reminder_follows_the_feedback_requests_rules_without_importing_them():
    """The reviews app finds the feedback app's check through the registry;
    without it the reminder has no wording rules of its own."""
    kept = text_fields("feedback_request")
    unregister_text_fields("feedback_request")
    try:
        assert validate_text("intro", "Leave us 5 stars!", "review_reminder") == []
    finally:
        register_text_fields(
            "feedback_request",
            sample_extra=kept.sample_extra,
            hidden=kept.hidden,
            check=kept.check,
            note=kept.note,
        )
    assert validate_text("intro", "Leave us 5 stars!", "review_reminder")


def test_a_note_says_what_the_fields_change():
    assert "failed delivery attempt" in str(text_fields("delivery_exception").note)
    assert "marketplace" in str(text_fields("feedback_request").note)
    assert text_fields("review_reminder").note is None
    assert text_fields("no_such_email").hidden == frozenset()


def test_the_registry_refuses_what_it_cannot_call():
    with pytest.raises(TypeError):
        register_text_fields("ready_for_pickup", sample_extra={"pickup_point": "x"})
    assert sample_extra("ready_for_pickup") == {"pickup_point": "Storgata 15, Oslo"}  # unchanged


# -- what customers get ------------------------------------------------------------------------


def test_the_abandoned_cart_reminder_takes_its_german_texts():
    edit("abandoned_cart", "headline", "{{ first_item }} wartet auf Sie")
    edit("abandoned_cart", "button", "Jetzt bestellen")
    edit("abandoned_cart", "intro", "Hallo {{ customer_name }}!\n\nIhr Warenkorb bei {{ shop.name }}:")
    german = render("abandoned_cart", "de")
    first = sample_context("abandoned_cart")["first_item"]
    assert headline(german.html) == f"{first} wartet auf Sie"
    assert ">Jetzt bestellen</a>" in german.html and "Jetzt bestellen: " in german.text
    assert "<p>Hallo Tina Hansen!</p>" in re.sub(r' style="[^"]*"', "", german.html)
    assert "Complete your order" not in german.html and "Bestellung abschließen" not in german.html
    english = render("abandoned_cart", "en")
    assert ">Complete your order</a>" in english.html  # no edit crosses languages


def test_the_feedback_requests_fields_change_the_survey_not_the_marketplace_review_request():
    edit("feedback_request", "subject", "Wie war Bestellung {{ order_number }}?")
    edit("feedback_request", "headline", "Erzählen Sie uns ehrlich, wie es war")
    survey = render("feedback_request", "de", review_request=False)
    assert survey.subject == "Wie war Bestellung 1001?"
    assert headline(survey.html) == "Erzählen Sie uns ehrlich, wie es war"
    review = render("feedback_request", "de", review_request=True, review_links=[])
    assert review.subject != "Wie war Bestellung 1001?"
    assert "Erzählen Sie uns" not in review.html


@pytest.mark.parametrize("kind", ["customs_hold", "returned_to_sender", "available_for_pickup"])
def test_the_delivery_exceptions_fields_change_the_failed_attempt_only(kind):
    edit("delivery_exception", "headline", "Zustellung von {{ order_number }} hat nicht geklappt", "en")
    edit("delivery_exception", "button", "Sendung ansehen", "en")
    failed = render(
        "delivery_exception", "en", delivery_exception=exception_context({"exception": "attempt_failed"})
    )
    assert headline(failed.html) == "Zustellung von 1001 hat nicht geklappt"
    other = render("delivery_exception", "en", delivery_exception=exception_context({"exception": kind}))
    assert "hat nicht geklappt" not in other.html
    assert "Your order 1001" in headline(other.html)
    assert ">Sendung ansehen</a>" in other.html  # the button label is every kind's


def test_a_steps_own_subject_wins_over_the_reminders_subject_field(broker, esp):
    now = timezone.now()
    edit("abandoned_cart", "subject", "Ihr Warenkorb bei {{ shop.name }}")
    plain = make_cart(idle_since=now - hours(13), language="de")
    scan_at(now)
    deliver(reminders(plain)[0].pk)
    assert reminders(plain)[0].subject == "Ihr Warenkorb bei Test Shop"
    save_sequence({"number": 1, "after_hours": 12, "subject": "Noch da?", "subject_language": "de"})
    stepped = make_cart(idle_since=now - hours(13), language="de")
    scan_at(now)
    deliver(reminders(stepped)[0].pk)
    assert reminders(stepped)[0].subject == "Noch da?"
