"""Edited (database) templates and branding in the rendering pipeline:
lookup order, rendering, the safety of what they see, validation, versions,
test emails, and the branding record with its cache."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.template import TemplateSyntaxError

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.rendering import branding as branding_module
from django_order_mail.rendering.branding import from_email, get_branding
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.db_loader import choose, default_fields, extract_blocks
from django_order_mail.rendering.models import Branding, EmailTemplate
from django_order_mail.rendering.render import render_event, render_fields, render_outbox_email
from django_order_mail.rendering.sample import sample_context
from django_order_mail.rendering.validation import validate_fields

pytestmark = pytest.mark.django_db

EDITABLE = [e for e in MailEvent.values if e not in ("abandoned_cart", "low_score_alert")]


@pytest.fixture(autouse=True)
def fresh_branding_cache():
    branding_module.invalidate_branding_cache()
    yield
    branding_module.invalidate_branding_cache()


def edited(event=MailEvent.ORDER_CONFIRMATION, language="en", channel="", **fields):
    values = {**default_fields(event, channel), **fields}
    template = EmailTemplate(event=event, language=language, channel=channel, **values)
    template.save_with_version(by="tester")
    return template


def render(order, event=MailEvent.ORDER_CONFIRMATION, *, language="en", channel=""):
    return render_event(event, build_context(order, event), language=language, channel=channel)


# -- defaults and lookup ------------------------------------------------------------------


def test_extract_blocks_handles_nesting():
    source = "{% block a %}x{% block b %}y{% endblock %}z{% endblock a %}"
    assert extract_blocks(source) == {"a": "x{% block b %}y{% endblock %}z", "b": "y"}


@pytest.mark.parametrize("event", EDITABLE)
def test_the_default_text_as_an_edited_template_renders_exactly_like_the_file(order, event):
    """Staff start from the packaged text: saving it unchanged must not change the email."""
    context = sample_context(event)
    from_file = render_event(event, context, language="en", use_db=False)
    from_db = render_fields(default_fields(event), context, event=event, language="en")
    assert from_db == from_file
    assert validate_fields(default_fields(event), event, language="en") == []


def test_edited_template_wins_and_html_is_css_inlined(order):
    edited(subject="Thanks {{ customer_name }}, order {{ order_number }} is in!")
    rendered = render(order)
    assert rendered.subject == f"Thanks Tina, order {order.number} is in!"
    assert 'style="' in rendered.html and "<style>" in rendered.html  # @media kept, rest inlined
    assert "Storgata 1" in rendered.text  # the branding footer still comes from base.email


def test_inactive_or_other_language_template_is_not_used(order):
    edited(subject="Edited", is_active=False)
    edited(subject="Auf Deutsch", language="de")
    assert render(order).subject.startswith(f"Order {order.number} confirmed")


def test_lookup_order(order, settings):
    settings.LANGUAGES = [("en", "English"), ("pt", "Portuguese"), ("pt-br", "Brazilian Portuguese")]
    assert choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "amazon_fbm").step == 6
    generic_base = edited(language="pt", subject="pt generic")
    assert choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "amazon_fbm").db_template == generic_base
    generic = edited(language="pt-br", subject="pt-br generic")
    assert choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "amazon_fbm").db_template == generic
    channel_base = edited(language="pt", channel="amazon_fbm", subject="pt amazon")
    found = choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "amazon_fbm")
    assert (found.db_template, found.step) == (channel_base, 2)
    channel_exact = edited(language="pt-br", channel="amazon_fbm", subject="pt-br amazon")
    assert choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "amazon_fbm").db_template == channel_exact
    assert choose(MailEvent.ORDER_CONFIRMATION, "pt-br", "web").db_template == generic


def test_a_channel_file_beats_a_generic_edited_template(order, tmp_path, settings):
    """A marketplace's own wording is never replaced by an edit of the generic template."""
    folder = tmp_path / "django_order_mail" / "email" / "amazon_fbm"
    folder.mkdir(parents=True)
    (folder / "order_confirmation.email").write_text(
        '{% extends "django_order_mail/email/base.email" %}{% block subject %}FBM wording{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    edited(subject="Generic edit")
    context = build_context(order, MailEvent.ORDER_CONFIRMATION)
    assert render_event(MailEvent.ORDER_CONFIRMATION, context, channel="amazon_fbm").subject == "FBM wording"
    assert render_event(MailEvent.ORDER_CONFIRMATION, context, channel="web").subject == "Generic edit"
    edited(channel="amazon_fbm", subject="FBM edit")
    assert render_event(MailEvent.ORDER_CONFIRMATION, context, channel="amazon_fbm").subject == "FBM edit"


# -- what edited templates may see -----------------------------------------------------------


def test_edited_templates_do_not_get_the_order_instance(order):
    edited(subject="{{ order.email }}|{{ order.state }}|{{ order.card_number }}|{{ order.lines.all }}")
    assert render(order).subject == "|pending_payment||"


def test_packaged_templates_still_get_the_order_instance(order):
    context = build_context(order, MailEvent.ORDER_CONFIRMATION)
    assert context["order"] is order


def test_a_broken_edited_template_falls_back_to_the_default_and_says_so(order, no_broker, monkeypatch):
    edited(subject="Edited subject")
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    # A template that validated can still break at send time, e.g. a tag
    # library the project removed later.
    EmailTemplate.objects.update(html_body="{% load gone_library %}")
    rendered = render_outbox_email(row, order)
    assert rendered.subject.startswith(f"Order {order.number} confirmed")
    log = EmailLog.objects.get(email=row, status="warning")
    assert "failed" in log.message and "default template was used" in log.message


# -- validation --------------------------------------------------------------------------


def fields(**changes):
    return {**default_fields(MailEvent.ORDER_CONFIRMATION), **changes}


def problems(**changes):
    return validate_fields(fields(**changes), MailEvent.ORDER_CONFIRMATION, language="en")


def test_syntax_error_is_reported_with_field_and_line():
    [problem] = problems(html_body="<p>ok</p>\n<p>{% if customer_name %}hi</p>\n{% endfor %}")
    assert (problem.level, problem.field, problem.line) == ("error", "html_body", 3)
    assert "endfor" in problem.message


def test_unknown_tag_and_filter_are_errors():
    [tag] = problems(subject="{% frobnicate %}")
    assert tag.level == "error" and tag.line == 1 and "frobnicate" in tag.message
    [filt] = problems(plain_body="a\n{{ order_number|nosuchfilter }}")
    assert filt.level == "error" and filt.line == 2 and "nosuchfilter" in filt.message


@pytest.mark.parametrize(
    "source",
    [
        '{% extends "admin/base.html" %}',
        "{% block html %}x{% endblock %}",
        "{% debug %}",
        '{% include "admin/base_site.html" %}',
        '{% include "django_order_mail/email/../../admin/base.html" %}',
        "{% include some_variable %}",
    ],
)
def test_tags_that_do_not_belong_in_an_edited_template_are_refused(source):
    assert [p.level for p in problems(html_body=source)] == ["error"]


def test_email_partials_may_be_included():
    assert problems(html_body='{% include "django_order_mail/email/_items.html" %}') == []


def test_unknown_variables_are_warnings_with_suggestions():
    found = problems(
        subject="Order {{ shop.nmae }} {{ ordernumber }}",
        html_body="{% for item in items %}{{ item.nmae }}{% endfor %}"
        "{% with x=totals %}{{ x.totl }}{% endwith %}",
    )
    texts = {(p.level, p.field, p.message.split("”")[0].lstrip("“")) for p in found}
    assert texts == {
        ("warning", "subject", "shop.nmae"),
        ("warning", "subject", "ordernumber"),
        ("warning", "html_body", "item.nmae"),
        ("warning", "html_body", "x.totl"),
    }
    assert "name" in next(p.message for p in found if "shop.nmae" in p.message)


def test_variables_bound_in_the_template_are_not_reported():
    assert (
        problems(
            subject="{% now 'Y' as year %}{{ year }} "
            "{% for a, b in addresses.items %}{{ a }}{{ b }}{% endfor %}",
            preheader="{% blocktranslate with n=order_number count c=items|length %}{{ n }} {{ c }}"
            "{% plural %}{{ n }}s {{ c }}{% endblocktranslate %}",
            plain_body="{{ extra.anything }} {{ forloop.counter }} {{ items.0.name }}",
        )
        == []
    )


def test_html_warnings():
    found = problems(
        plain_body="",
        html_body='<link rel="stylesheet" href="https://x/y.css"><script>alert(1)</script><p>Hi</p>',
    )
    assert [p.field for p in found] == ["plain_body", "html_body", "html_body"]
    assert all(p.level == "warning" for p in found)


def test_empty_subject_is_an_error():
    assert [(p.level, p.field) for p in problems(subject="  ")] == [("error", "subject")]


def test_a_render_error_of_the_sample_is_an_error():
    [problem] = problems(html_body="{% url 'no-such-view' %}")
    assert problem.level == "error" and "NoReverseMatch" in problem.message


# -- versions ----------------------------------------------------------------------------


def test_every_save_is_a_version():
    template = edited(subject="v1")
    template.subject = "v2"
    template.save_with_version(by="anna", note="typo")
    assert list(template.versions.values_list("number", "subject", "created_by", "note")) == [
        (2, "v2", "anna", "typo"),
        (1, "v1", "tester", ""),
    ]
    assert template.version == 2


# -- test emails -------------------------------------------------------------------------


def test_a_test_email_is_sent_as_rendered_to_staff_never_to_the_customer(order, broker, esp, admin_user):
    from django_order_mail.admin.preview import queue_test_email

    rendered = render_fields(
        fields(subject="Draft subject"),
        sample_context(MailEvent.ORDER_CONFIRMATION),
        event=MailEvent.ORDER_CONFIRMATION,
    )
    row = queue_test_email(
        admin_user, rendered, event=MailEvent.ORDER_CONFIRMATION, channel="web", label="sample"
    )
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert message.to == [admin_user.email]
    assert message.subject == "Draft subject"
    row.refresh_from_db()
    assert row.is_test and row.status == Status.SENT
    assert not OutboxEmail.for_order(order).exists()


# -- branding ----------------------------------------------------------------------------


def test_branding_record_overrides_settings_and_empty_fields_stay_empty():
    assert get_branding()["name"] == "Test Shop"
    Branding.objects.create(name="Nordlys", support_phone="", accent_color="#ff0000")
    branding = get_branding()
    assert (branding["name"], branding["support_phone"], branding["accent_color"]) == (
        "Nordlys",
        "",
        "#ff0000",
    )
    assert branding["sender_name"] == "Nordlys"


def test_branding_cache_is_dropped_on_save(django_assert_num_queries):
    record = Branding.objects.create(name="First")
    assert get_branding()["name"] == "First"
    with django_assert_num_queries(0):
        get_branding()
    record.name = "Second"
    record.save()
    assert get_branding()["name"] == "Second"


def test_uploaded_logo_becomes_an_absolute_url(settings, tmp_path):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEDIA_URL = "/media/"
    record = Branding(name="Logo shop")
    record.logo.save("logo.png", ContentFile(b"\x89PNG"), save=True)
    # The storage (in memory in the tests) may add a suffix when another
    # test already stored a logo.png: the URL follows the stored name.
    assert record.logo.name.startswith("django_order_mail/branding/logo")
    assert get_branding()["logo_url"] == f"https://shop.example/media/{record.logo.name}"


def test_from_email_uses_branding_sender():
    assert from_email() == "Test Shop <orders@shop.example>"
    Branding.objects.create(name="Nordlys", sender_name="Nordlys Goods", sender_email="hei@nordlys.example")
    assert from_email() == "Nordlys Goods <hei@nordlys.example>"


def test_branding_reaches_the_email(order):
    Branding.objects.create(name="Nordlys Goods", postal_address="Kaigata 5\n5016 Bergen")
    rendered = render(order)
    assert "Nordlys Goods" in rendered.text and "Kaigata 5" in rendered.text
    assert "Test Shop" not in rendered.html


def test_parse_error_type_is_a_template_syntax_error():
    from django_order_mail.rendering.validation import parse_field

    with pytest.raises(TemplateSyntaxError):
        parse_field("{% if %}")
