"""Email texts in the rendering path: validation at save (attacked with what
must never get through), precedence (one field, one language; a template
edited as code wins), escaping, and the email a customer then receives."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import transaction

from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.content import check_text, content_for, render_slot
from django_order_mail.rendering.content_slots import event_slots, packaged_texts
from django_order_mail.rendering.content_validation import offered_variables, validate_text, validate_texts
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailContent, EmailTemplate
from django_order_mail.rendering.render import render_event, render_outbox_email
from django_order_mail.rendering.sample import sample_context
from django_order_mail.rendering.sandbox import UnsafeTemplateError
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SHIPPING = MailEvent.SHIPPING_CONFIRMATION
CONFIRMATION = MailEvent.ORDER_CONFIRMATION
SHIPPED = ["en", "de", "es", "fr", "nb", "ru", "zh-hans", "zh-hant"]


def headline(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)


def unstyled(html: str) -> str:
    """The HTML without the style="" attributes css-inline adds."""
    return re.sub(r' style="[^"]*"', "", html)


def shipped_order(language="de", name="Erika Muster"):
    order = OrderFactory(language=language, customer_name=name)
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    shipment = order.add_shipment("dhl", "JD014600003828")
    with transaction.atomic():
        order.ship(shipment)
        order.save()
    return order, OutboxEmail.for_order(order).get(event=SHIPPING)


def edit(slot, text, *, event=SHIPPING, language="de"):
    return EmailContent.objects.create(event=event, language=language, slot=slot, text=text)


# -- what the templates offer ------------------------------------------------------------


def test_the_core_emails_have_their_fields_in_the_editors_order():
    assert [s.name for s in event_slots(SHIPPING)] == [
        "subject",
        "preheader",
        "headline",
        "intro",
        "button",
        "closing",
        "footer_note",
    ]
    assert [s.name for s in event_slots(MailEvent.ORDER_ON_HOLD)] == [
        "subject",
        "preheader",
        "headline",
        "intro",
        "closing",
        "footer_note",
    ]


def test_the_packaged_text_is_the_translation_with_placeholders():
    german = packaged_texts(SHIPPING, "de")
    assert german["headline"] == "Ihre Bestellung {{ order_number }} ist unterwegs"
    assert german["button"] == "Paket verfolgen"
    assert german["intro"] == ""  # nothing packaged: a paragraph staff may add
    # blocktranslate with shop=shop.name gives the variable staff would write
    assert "{{ shop.name }}" in packaged_texts(CONFIRMATION, "en")["intro"]
    # a variant with an amount: the one that fits every refund is offered
    assert packaged_texts(MailEvent.REFUND, "en")["subject"] == "Your refund for order {{ order_number }}"


@pytest.mark.parametrize("language", SHIPPED)
def test_every_packaged_text_passes_the_editors_checks(language):
    """ "Start from the packaged text" never gives a text the editor refuses."""
    for event in MailEvent.values:
        texts = {slot: text for slot, text in packaged_texts(event, language).items() if text}
        assert validate_texts(texts, event, language=language) == {}, (event, language)


def test_the_templates_editor_starts_without_the_content_tags():
    for event in MailEvent.values:
        for source in default_fields(event).values():
            assert "content" not in re.findall(r"\{%\s*(\w+)", source)


def test_variables_offered_are_the_ones_this_email_has():
    shipping = {chip.path: chip for chip in offered_variables(SHIPPING, "de")}
    assert shipping["shipment.tracking_number"].sample == "JD014600003828"
    assert shipping["totals.total"].expression == "totals.total|money:currency"
    assert shipping["totals.total"].sample == "44,76 €"  # in the editor's language
    assert shipping["expected.ship_by"].expression == "expected.ship_by|localdate"
    confirmation = {chip.path for chip in offered_variables(CONFIRMATION)}
    assert "shipment.tracking_number" not in confirmation  # no parcel in a confirmation
    assert not {"order", "order.state", "items", "event", "shop.primary_color"} & confirmation
    refund = {chip.path: chip for chip in offered_variables(MailEvent.REFUND)}
    assert refund["extra.amount"].expression == "extra.amount|money:currency"
    cancellation = {chip.path: chip for chip in offered_variables(MailEvent.CANCELLATION)}
    assert cancellation["extra.reason_code"].expression == "extra.reason_code|reason_text:event"


# -- validation: attacked ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{{ order.customer.password }}", "“{{ order.customer.password }}” is not a variable of this email"),
        ("{{ order }}", "is not a variable of this email"),
        ("{{ order.state }}", "is not a variable of this email"),
        ("Hi {% load cache %}", "“{% load %}”: tags cannot be used in text fields"),
        ("{% load i18n %}{% translate 'x' %}", "tags cannot be used in text fields"),
        ("{% debug %}", "tags cannot be used in text fields"),
        ('{% include "django_order_mail/email/_items.html" %}', "tags cannot be used in text fields"),
        ("{# note #}", "Comments"),
        ("<script>alert(1)</script>", "“<script>”: text fields take plain text, not HTML"),
        ('Click <a href="https://evil.example">here</a>', "not HTML"),
        ("{{ shipment.tracking_number }}", "is not a variable of this email"),  # a parcel's, not an order's
        ("{{ extra.amount|money:currency }}", "is not a variable of this email"),  # a refund's
        ("{{ items }}", "is not a variable of this email"),
        ("{{ order_number", "“{{ order_number” has a broken placeholder"),
        ("order_number }}", "broken placeholder"),
        ("{{ order_number }", "broken placeholder"),
        ("{order_number}", "write a variable with two braces on each side: {{ order_number }}"),
        ("{{ }}", "Empty variable tag"),
        ("{{ customer_name|safe }}", "Invalid filter: 'safe'"),
        ("{{ customer_name|urlize }}", "The filter “|urlize” cannot be used in text fields"),
        ("{{ totals.total|money:secret }}", "“secret” is not a variable of this email"),
        ("{{ customer_name|ljust:99999999 }}", "written-out size"),
        ("{{ _private }}", "underscore"),
        ("x" * 201, "Keep it to 200 characters"),
    ],
)
def test_refused_at_save_with_the_reason(text, reason):
    problems = validate_text("headline", text, CONFIRMATION, language="en")
    assert problems, text
    assert reason in " ".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, {{ customer_name|default:'friend' }}!",
        "Your total: {{ totals.total|money:currency }} · {{ shop.name|upper }}",
        "Order {{order_number}} is confirmed",  # no spaces inside the braces
    ],
)
def test_plain_text_and_offered_variables_are_accepted(text):
    assert validate_text("headline", text, CONFIRMATION, language="de") == []


def test_lone_comparison_signs_and_percent_are_text():
    assert validate_text("intro", "Orders < 50 € ship in 2 days > promised. 100% sure.", CONFIRMATION) == []
    assert validate_text("intro", "If a < b and c > d, smile <3", CONFIRMATION) == []


def test_an_email_without_a_readable_template_has_no_fields(settings, tmp_path):
    broken = tmp_path / "django_order_mail" / "email"
    broken.mkdir(parents=True)
    (broken / "delivered.email").write_text("{% extends 'django_order_mail/email/base.email' %}{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    assert event_slots(MailEvent.DELIVERED) == []
    assert event_slots("no_such_event") == []


def test_a_variable_of_the_email_but_not_of_the_language_check_is_still_checked_in_that_language():
    problems = validate_text("headline", "{{ totals.total|money:currency }}", CONFIRMATION, language="de")
    assert problems == []


# -- rendering: precedence ----------------------------------------------------------------


def test_an_edited_field_replaces_only_that_field_in_only_that_language(order):
    edit("headline", "Ihr Paket ist unterwegs, {{ customer_name }}!")
    shipment = order.add_shipment("dhl", "JD1")
    context = build_context(order, SHIPPING, shipment=shipment)
    german = render_event(SHIPPING, context, language="de")
    assert headline(german.html) == "Ihr Paket ist unterwegs, Tina!"
    assert german.subject == f"Ihre Bestellung {order.number} ist unterwegs"  # packaged, in German
    assert "Paket verfolgen" in german.html  # the button too
    assert "Ihr Paket ist unterwegs, Tina!" in german.text  # the plain part's headline line
    english = render_event(SHIPPING, context, language="en")
    assert headline(english.html) == f"Your order {order.number} is on its way"


def test_an_english_edit_never_reaches_a_german_customer(order):
    """No fallback to another language's edit: the packaged German text."""
    edit("headline", "On its way, {{ customer_name }}!", language="en")
    edit("subject", "Shipped: {{ order_number }}", language="en")
    shipment = order.add_shipment("dhl", "JD1")
    context = build_context(order, SHIPPING, shipment=shipment)
    german = render_event(SHIPPING, context, language="de")
    assert headline(german.html) == f"Ihre Bestellung {order.number} ist unterwegs"
    assert "On its way" not in german.html + german.text + german.subject
    assert content_for(SHIPPING, "de") == {}
    assert render_event(SHIPPING, context, language="en").subject == f"Shipped: {order.number}"


def test_a_regional_language_uses_its_base_languages_edit_but_its_own_wins():
    edit("headline", "Olá {{ customer_name }}", language="pt")
    assert content_for(SHIPPING, "pt-br") == {"headline": "Olá {{ customer_name }}"}
    edit("headline", "Oi {{ customer_name }}", language="pt-br")
    assert content_for(SHIPPING, "pt-br") == {"headline": "Oi {{ customer_name }}"}
    assert content_for(SHIPPING, "pt") == {"headline": "Olá {{ customer_name }}"}


def test_a_template_edited_as_code_wins_over_the_fields(order):
    edit("headline", "From the text field")
    fields = {**default_fields(SHIPPING), "subject": "Code subject {{ order_number }}"}
    template = EmailTemplate.objects.create(event=SHIPPING, language="de", **fields)
    shipment = order.add_shipment("dhl", "JD1")
    context = build_context(order, SHIPPING, shipment=shipment)
    rendered = render_event(SHIPPING, context, language="de")
    assert rendered.subject == f"Code subject {order.number}"
    assert "From the text field" not in rendered.html
    template.is_active = False  # "reset to default": the fields count again
    template.save()
    assert headline(render_event(SHIPPING, context, language="de").html) == "From the text field"


def test_an_extra_paragraph_gets_its_own_paragraphs_in_both_parts():
    context = sample_context(SHIPPING)
    text = "Erste Zeile\nzweite Zeile\n\n\n\nNeuer Absatz mit {{ order_number }}."
    rendered = render_event(SHIPPING, context, language="de", use_db=False, content={"closing": text})
    assert "<p>Erste Zeile<br>zweite Zeile</p>\n\n<p>Neuer Absatz mit 1001.</p>" in unstyled(rendered.html)
    assert "\n\nErste Zeile\nzweite Zeile\n\nNeuer Absatz mit 1001.\n\nFragen?" in rendered.text


def test_the_footer_note_is_a_field_of_every_email():
    context = sample_context(MailEvent.DELIVERED)
    content = {"footer_note": "Sie bekommen diese E-Mail von {{ shop.name }}."}
    rendered = render_event(MailEvent.DELIVERED, context, language="de", use_db=False, content=content)
    assert "<p>Sie bekommen diese E-Mail von Test Shop.</p>" in unstyled(rendered.html)
    assert "weil Sie bei uns bestellt haben" not in rendered.html


# -- rendering: escaping and rows written around the admin ----------------------------------


def test_customer_text_stays_escaped_exactly_once(order):
    order.customer_name = '<script>alert("x")</script> & Co'
    order.save()
    edit("headline", "Hallo {{ customer_name }}")
    edit("subject", "Für {{ customer_name }}")
    shipment = order.add_shipment("dhl", "JD1")
    rendered = render_event(SHIPPING, build_context(order, SHIPPING, shipment=shipment), language="de")
    # css-inline writes the quotes of a text node as they are; "<" and "&" stay escaped
    assert headline(rendered.html) == 'Hallo &lt;script&gt;alert("x")&lt;/script&gt; &amp; Co'
    assert "<script>" not in rendered.html
    # the subject is a header, not HTML: the name as typed, on one line
    assert rendered.subject == 'Für <script>alert("x")</script> & Co'


def test_html_typed_by_staff_is_text_even_when_written_around_the_admin(caplog):
    """A row the admin would refuse (a fixture, a data migration) is refused
    again when it is rendered: the packaged text is used and it is logged."""
    context = sample_context(SHIPPING)
    content = {
        "headline": "<script>alert(1)</script>",
        "intro": "{% load cache %}x",
        "button": "{{ x|safe }}",
    }
    with caplog.at_level(logging.ERROR, logger="django_order_mail.rendering"):
        rendered = render_event(SHIPPING, context, language="de", use_db=False, content=content)
    assert headline(rendered.html) == "Ihre Bestellung 1001 ist unterwegs"
    assert "<script>" not in rendered.html and "alert(1)" not in rendered.text
    assert "Paket verfolgen" in rendered.html
    assert len([r for r in caplog.records if "could not be rendered" in r.getMessage()]) >= 3


def test_what_the_text_can_see_is_the_sandboxes_plain_data(order):
    """Written around the admin, a lookup outside the offered variables still
    reaches no model instance: ``order`` is only its state."""
    edit("headline", "[{{ order.email }}|{{ order.pk }}|{{ order.lines.all }}|{{ order.state }}]")
    shipment = order.add_shipment("dhl", "JD1")
    rendered = render_event(SHIPPING, build_context(order, SHIPPING, shipment=shipment), language="de")
    assert headline(rendered.html) == "[|||pending_payment]"


def test_check_text_is_the_same_at_render_time():
    with pytest.raises(UnsafeTemplateError):
        check_text("{% now 'Y' %}")
    assert render_slot("subject", "A  \n  B {{ n }}", {"n": "<b>"}, html=False) == "A B <b>"
    assert render_slot("subject", "A {{ n }}", {"n": "<b>"}, html=True) == "A &lt;b&gt;"


# -- the email a German customer receives ---------------------------------------------------


def test_the_german_customer_gets_the_edited_headline_through_the_workers_path():
    edit("headline", "Ihr Paket ist unterwegs, {{ customer_name }}!")
    order, row = shipped_order("de", "Erika Muster")
    rendered = render_outbox_email(row, order)
    assert rendered.language == "de"
    assert headline(rendered.html) == "Ihr Paket ist unterwegs, Erika Muster!"
    assert rendered.subject == f"Ihre Bestellung {order.number} ist unterwegs"
    english_order, english_row = shipped_order("en", "Jane Doe")
    assert headline(render_outbox_email(english_row, english_order).html) == (
        f"Your order {english_order.number} is on its way"
    )
