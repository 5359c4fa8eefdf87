"""The staff admin in a real browser: the editor refuses a syntax error, the
live preview follows the subject at desktop and mobile width, and "Resend"
in the send log writes a new row."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailTemplate
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def saved_template() -> EmailTemplate:
    template = EmailTemplate(
        event=MailEvent.ORDER_CONFIRMATION, language="en", **default_fields(MailEvent.ORDER_CONFIRMATION)
    )
    template.save_with_version(by="setup")
    return template


def test_syntax_error_is_shown_and_nothing_is_saved(staff_page, site):
    template = saved_template()
    page = staff_page
    page.goto(f"{site}/admin/django_order_mail/emailtemplate/{template.pk}/change/")
    page.fill(
        "#id_html_body", "<p>Hello</p>\n{% if customer_name %}\n<p>{{ customer_name }}</p>\n{% endfor %}"
    )
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".field-html_body .errorlist")).to_contain_text("Line 4:")
    expect(page.locator(".field-html_body .errorlist")).to_contain_text("endfor")
    template.refresh_from_db()
    assert template.version == 1
    assert template.html_body == default_fields(MailEvent.ORDER_CONFIRMATION)["html_body"]


def test_preview_follows_the_edited_subject_at_desktop_and_mobile_width(staff_page, site):
    page = staff_page
    page.goto(f"{site}/admin/django_order_mail/emailtemplate/add/?event=order_confirmation")
    page.fill("#id_subject", "Browser check {{ order_number }} for {{ customer_name }}")
    for device in ("desktop", "mobile"):
        expect(page.locator(f"#order-mail-subject-{device}")).to_have_text(
            "Browser check 1001 for Tina Hansen"
        )
    page.fill("#id_html_body", "<h1>Edited body for {{ customer_name }}</h1>")
    for device in ("desktop", "mobile"):
        frame = page.frame_locator(f"#order-mail-preview-{device}")
        expect(frame.locator("h1")).to_have_text("Edited body for Tina Hansen")
    # The mobile frame is phone-sized and the email's layout follows it.
    mobile = page.frame_locator("#order-mail-preview-mobile").locator("table.container")
    assert mobile.bounding_box()["width"] <= 375
    desktop = page.frame_locator("#order-mail-preview-desktop").locator("table.container")
    assert desktop.bounding_box()["width"] == pytest.approx(600, abs=2)
    assert not EmailTemplate.objects.exists()  # previewing saves nothing


def test_resend_creates_a_new_log_row(staff_page, site):
    order = OrderFactory()
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    OutboxEmail.objects.filter(pk=row.pk).update(status=Status.SENT, body_html="<p>As sent</p>")
    page = staff_page
    page.goto(f"{site}/admin/django_order_mail/outboxemail/{row.pk}/change/")
    expect(page.frame_locator(".order-mail-as-sent iframe").locator("p")).to_have_text("As sent")
    page.click("#order-mail-resend")
    copy = OutboxEmail.objects.get(resend_of=row)
    expect(page).to_have_url(re.compile(rf"/outboxemail/{copy.pk}/change/$"))
    expect(page.locator(".messagelist")).to_contain_text(f"#{copy.pk}")
    assert copy.status == Status.QUEUED
    assert OutboxEmail.objects.count() == 2
