"""Attacks on staff-editable text: one sandbox for edited templates and A/B
subject variants (docs/security.rst).

Each test plays a staff member who may edit a template or a subject test
and tries to read other customers' data, write to the database or pull in
templates and tag libraries through the text they type.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.delivery.sweep import dispatch_due
from django_order_mail.events import MailEvent
from django_order_mail.feedback.recording import record_answer
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailTemplate
from django_order_mail.rendering.render import render_subject
from django_order_mail.rendering.sandbox import UnsafeTemplateError, check_source, staff_context
from django_order_mail.rendering.validation import validate_fields
from django_order_mail.tracking.models import SubjectTest, SubjectVariant
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

WALK_RESPONSES = (
    "{% for o in response.content_type.get_all_objects_for_this_type %}"
    "{{ o.email }} {{ o.card_last4 }} {% endfor %}"
)
WALK_CART = "{% for line in cart.lines.all %}{{ line.cart.email }}{% endfor %}{{ cart.email }}"


def variant_for(event: str, subject: str) -> SubjectVariant:
    test = SubjectTest.objects.create(name="attack", event=event)
    # Written straight to the table, around the form's validation: the
    # render path must refuse on its own.
    return SubjectVariant.objects.create(test=test, label="A", subject=subject, weight=1)


def sent_subject(row) -> str:
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    return row.subject


def test_low_score_alert_variant_cannot_list_other_customers(broker, esp):
    victim = OrderFactory(email="victim@example.com")
    order = OrderFactory(email="angry@example.com")
    with transaction.atomic():
        [request] = enqueue(order, [PendingMail("feedback_request")])
    record_answer(request, score=1, scale="csat")
    variant_for("low_score_alert", "Alert " + WALK_RESPONSES + "{{ response.score }}")
    alert = OutboxEmail.objects.get(event="low_score_alert")
    OutboxEmail.objects.filter(pk=alert.pk).update(send_after=timezone.now() - timedelta(seconds=1))
    assert dispatch_due() == [alert.pk]

    subject = sent_subject(alert)

    assert victim.email not in subject and order.email not in subject
    assert "4242" not in subject
    assert subject == "Alert 1"  # the plain data is there; the walk printed nothing


def test_cart_reminder_variant_cannot_walk_or_call_the_cart(broker, esp):
    other = make_cart(email="other@example.com")
    now = timezone.now()
    cart = make_cart(email="shopper@example.com", idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    variant_for("abandoned_cart", WALK_CART + "{{ cart.stop_reminders }}{{ shop.clear }}{{ shop.name }}")

    subject = sent_subject(row)

    assert other.email not in subject and cart.email not in subject
    cart.refresh_from_db()
    assert cart.reminders_off is False  # calling a method with side effects did nothing
    assert subject == "Test Shop"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{% debug %}", "debug"),
        ('{% include "admin/login.html" %}', "include"),
        ("{% load log %}{% get_admin_log 10 as log %}", "load log"),
        ("{% load cache %}", "load cache"),
        ("{{ customer_name|safe }}", "safe"),
        ("{% autoescape off %}{{ customer_name }}{% endautoescape %}", "autoescape"),
    ],
)
def test_unsafe_tags_are_refused_when_a_variant_is_saved(text, reason):
    test = SubjectTest.objects.create(name="t", event=MailEvent.ORDER_CONFIRMATION)
    with pytest.raises(ValidationError, match=reason):
        SubjectVariant(test=test, label="A", subject=text).full_clean()


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("<p>Hi</p>\n{% debug %}", 2, "debug"),
        ('<p>Hi</p>\n\n{% include "admin/login.html" %}', 3, "include"),
        ("{% load log %}", 1, "load log"),
        ("<p>\n{{ customer_name|safe }}</p>", 2, "safe"),
        ("{% autoescape off %}{{ customer_name }}{% endautoescape %}", 1, "autoescape"),
    ],
)
def test_unsafe_tags_are_refused_at_save_with_the_line(text, line, reason):
    fields = {"subject": "Hello", "preheader": "", "html_body": text, "plain_body": "Hi"}
    errors = [p for p in validate_fields(fields, MailEvent.ORDER_CONFIRMATION) if p.level == "error"]
    assert errors, text
    assert errors[0].field == "html_body" and errors[0].line == line
    assert reason in errors[0].message


def test_an_unsafe_edited_template_in_the_database_is_refused_at_render(order, broker, esp):
    """A row that reached the table around the editor (a fixture, an old
    release) is refused at render time; the customer gets the packaged email."""
    fields = default_fields(MailEvent.ORDER_CONFIRMATION)
    fields["subject"] = "Leak {% load log %}{% get_admin_log 5 as log %}{{ log }}"
    EmailTemplate.objects.create(event=MailEvent.ORDER_CONFIRMATION, language="en", is_active=True, **fields)
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])

    subject = sent_subject(row)

    assert "Leak" not in subject and order.number in subject
    assert EmailLog.objects.filter(email=row, message__contains="load log").exists()


def test_the_packaged_partials_may_be_included():
    check_source('{% include "django_order_mail/email/_items.html" %}')
    with pytest.raises(UnsafeTemplateError):
        check_source('{% include "django_order_mail/email/../../admin/base.html" %}')
    with pytest.raises(UnsafeTemplateError):
        check_source("{% include template_name %}")


def test_staff_context_is_plain_read_only_data(order):
    context = staff_context(
        {
            "order": order,
            "items": [{"name": "Socks", "product": order, "price": 1}],
            "shop": {"name": "N", "owner": order, "links": [order, "x"]},
            "callback": lambda: OutboxEmail.objects.all().delete(),
        }
    )
    assert context["order"] == {"state": order.state}
    assert context["items"] == ({"name": "Socks", "price": 1},)
    assert context["shop"] == {"name": "N", "links": ("x",)}
    assert "callback" not in context
    with pytest.raises(TypeError):
        context["shop"].clear()


def test_variant_renders_nothing_of_the_order_instance(order):
    context = {"order": order, "order_number": "7"}
    assert render_subject("[{{ order.email }}] {{ order_number }}", context, "") == "[] 7"
    assert render_subject("{% debug %}", context, "en") == ""


@pytest.mark.parametrize(
    "text",
    [
        '{{ customer_name|ljust:"2000000000" }}',
        "{{ customer_name|rjust:order_number }}",
        '{% filter center:"90000000" %}x{% endfilter %}',
        '{{ customer_name|stringformat:"999999999s" }}',
        "{{ totals.total|floatformat:100000 }}",
        "{% lorem 99999999 w %}",
    ],
)
def test_text_that_would_make_a_render_allocate_gigabytes_is_refused(text):
    """A staff member cannot take the workers down with one edited line."""
    fields = {"subject": "Hello", "preheader": "", "html_body": "<p>\n" + text + "</p>", "plain_body": "Hi"}
    errors = [p for p in validate_fields(fields, MailEvent.ORDER_CONFIRMATION) if p.level == "error"]
    assert errors and errors[0].line == 2
    check_source('{{ customer_name|ljust:"20" }}{{ totals.total|floatformat:2 }}')  # sizes that fit
