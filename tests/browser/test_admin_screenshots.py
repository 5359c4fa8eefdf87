"""The screenshots of docs/staff-guide.rst, taken from the real admin.

Runs with the browser tests (the pages must render and the elements the
guide shows must exist); the images go to a temporary folder unless
``ORDER_MAIL_SCREENSHOTS=1``, which writes ``docs/_static/admin-*.png``::

    ORDER_MAIL_SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_admin_screenshots.py \\
        -p no:cacheprovider --nomigrations
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailTemplate
from django_order_mail.rendering.render import render_outbox_email
from tests.factories import OrderFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

DOCS_STATIC = Path(__file__).resolve().parents[2] / "docs" / "_static"
NAMES = ["Tina Hansen", "Ola Nordmann", "Li Wei", "Anna Petrova", "Kari Berg", "Jonas Lie"]


def send_log():
    now = timezone.now()
    outcomes = [Status.SENT, Status.SENT, Status.FAILED, Status.SENT, Status.SCHEDULED, Status.SENT]
    for i, (name, status) in enumerate(zip(NAMES, outcomes, strict=True)):
        order = OrderFactory(customer_name=name, number=f"10{42 + i}")
        with transaction.atomic():
            rows = enqueue(
                order, [PendingMail(MailEvent.ORDER_CONFIRMATION), PendingMail(MailEvent.DELIVERED)]
            )
        for n, row in enumerate(rows):
            rendered = render_outbox_email(row, order)
            fields = {
                "status": status if n == 0 else Status.SENT,
                "attempts": 1,
                "created_at": now - timedelta(minutes=7 * i + n),
                "subject": rendered.subject,
                "body_html": rendered.html,
                "body_text": rendered.text,
            }
            if fields["status"] == Status.SENT:
                fields.update(
                    sent_at=fields["created_at"] + timedelta(seconds=2), esp_message_id=f"pm-{row.pk:06d}"
                )
            elif fields["status"] == Status.FAILED:
                fields.update(
                    attempts=8, last_error="ESP answered 422: the address bounced before (inactive)"
                )
            OutboxEmail.objects.filter(pk=row.pk).update(**fields)
            row.log(fields["status"], "accepted by the ESP" if fields["status"] == Status.SENT else "")
    return OutboxEmail.objects.filter(event=MailEvent.ORDER_CONFIRMATION, status=Status.SENT).first()


def test_take_the_staff_guide_screenshots(staff_page, site, tmp_path):
    out = DOCS_STATIC if os.environ.get("ORDER_MAIL_SCREENSHOTS") else tmp_path
    out.mkdir(exist_ok=True)
    page = staff_page
    sent = send_log()

    template = EmailTemplate(
        event=MailEvent.ORDER_CONFIRMATION, language="en", **default_fields(MailEvent.ORDER_CONFIRMATION)
    )
    template.subject = (
        "{% blocktranslate %}We got your order {{ order_number }}, {{ customer_name }}!"
        "{% endblocktranslate %}"
    )
    template.save_with_version(by="anna")
    # Tall enough that the whole editor is painted (headless chromium leaves
    # iframes outside the viewport blank in full-page screenshots).
    page.set_viewport_size({"width": 1600, "height": 2300})
    page.goto(f"{site}/admin/django_order_mail/emailtemplate/{template.pk}/change/")
    page.fill("#id_preheader", "Thank you! A tracking link follows as soon as it ships.")
    page.wait_for_timeout(1200)
    page.screenshot(path=str(out / "admin-template-editor.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.fill("#id_html_body", "<p>{% if customer_name %}\n{% endfor %}</p>")
    page.click("input[name=_save]")
    page.locator(".errornote").wait_for()
    page.locator(".field-html_body").screenshot(path=str(out / "admin-template-error.png"))

    page.set_viewport_size({"width": 1366, "height": 768})  # the list has the page's width to itself
    page.goto(f"{site}/admin/django_order_mail/outboxemail/")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "admin-send-log.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.goto(f"{site}/shop-admin/testapp/order/{sent.object_id}/change/")
    page.locator("fieldset").first.screenshot(path=str(out / "admin-order-panel.png"))

    page.set_viewport_size({"width": 1400, "height": 2000})
    page.goto(f"{site}/admin/django_order_mail/outboxemail/{sent.pk}/change/")
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / "admin-send-log-detail.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    page.set_viewport_size({"width": 1600, "height": 1800})
    page.goto(f"{site}/admin/django_order_mail/branding/")
    page.fill("#id_name", "Nordlys Goods")
    page.fill("#id_primary_color", "#0f766e")
    page.wait_for_timeout(1200)
    page.screenshot(path=str(out / "admin-branding.png"))
    shots = sorted(p.name for p in out.glob("admin-*.png"))
    assert len(shots) == 6 and all((out / n).stat().st_size > 5000 for n in shots), shots
