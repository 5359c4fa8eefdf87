"""The admin's previews show an email's promotional share and warn above
PROMOTIONAL_SHARE_MAX (the CAN-SPAM 80/20 practice), for the sample order
with the shop's recommendations switched on and for staff's own
promotional markup in an edited template."""

from __future__ import annotations

import pytest
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.rendering.db_loader import default_fields
from tests.admin.test_templates import form_data

pytestmark = pytest.mark.django_db

PREVIEW = "admin:django_order_mail_emailtemplate_preview"
PROVIDER = "tests.recommendations.test_hook.provider"


def preview(client, event=MailEvent.ORDER_CONFIRMATION, **changes) -> dict:
    response = client.post(reverse(PREVIEW), form_data(event=event, **changes))
    assert response.status_code == 200
    answer = response.json()
    assert answer["ok"], answer
    return answer


def test_an_email_without_promotion_shows_zero_and_no_warning(admin_client):
    answer = preview(admin_client)
    assert answer["promotional_share"] == "0.0 %" and answer["promotional_warning"] == ""


def test_the_sample_shows_the_recommendations_and_their_share(admin_client, mail_settings):
    mail_settings(RECOMMENDATIONS_PROVIDER=PROVIDER)
    answer = preview(admin_client)
    assert "Sample product 1" in answer["html"]
    share = float(answer["promotional_share"].split()[0])
    assert 0 < share <= 20 and answer["promotional_warning"] == ""


def test_promotional_markup_of_staff_above_the_limit_is_warned_about(admin_client):
    fields = default_fields(MailEvent.ORDER_CONFIRMATION)
    banner = (
        '<div data-promotional="sale">'
        + "<p>SPRING SALE: 30 % off everything, only this week!</p>" * 12
        + "</div>"
    )
    answer = preview(admin_client, html_body=fields["html_body"] + banner)
    share = float(answer["promotional_share"].split()[0])
    assert share > 20
    assert answer["promotional_warning"].startswith(f"Promotional content is {share:.1f} %")
    # The editor page itself shows the share for what it starts with.
    page = admin_client.get(reverse("admin:django_order_mail_emailtemplate_add")).content.decode()
    assert "data-preview-promotional" in page


def test_the_branding_preview_shows_the_share_too(admin_client, mail_settings):
    mail_settings(RECOMMENDATIONS_PROVIDER=PROVIDER)
    response = admin_client.get(reverse("admin:django_order_mail_branding_add"))
    assert "data-preview-promotional" in response.content.decode()
    assert response.context["preview"]["promotional_share"].endswith("%")
