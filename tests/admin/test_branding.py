"""Branding in the admin: one record, starting from the settings, with a live
preview of unsaved values, read by every email right after saving."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.rendering import branding as branding_module
from django_order_mail.rendering.branding import get_branding
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.models import Branding
from django_order_mail.rendering.render import render_event

pytestmark = pytest.mark.django_db

ADD = "admin:django_order_mail_branding_add"
PREVIEW = "admin:django_order_mail_branding_preview"


@pytest.fixture(autouse=True)
def fresh_branding_cache(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    branding_module.invalidate_branding_cache()
    yield
    branding_module.invalidate_branding_cache()


def form_data(**changes):
    data = {
        "name": "Nordlys Goods",
        "website_url": "https://nordlys.example",
        "logo_url": "",
        "primary_color": "#0f766e",
        "accent_color": "#b45309",
        "background_color": "#f3f4f6",
        "text_color": "#111827",
        "sender_name": "Nordlys",
        "sender_email": "",
        "support_email": "hjelp@nordlys.example",
        "support_phone": "",
        "help_url": "",
        "returns_url": "",
        "warranty_url": "",
        "returns_policy": "",
        "postal_address": "Nordlys AS\nKaigata 5\n5016 Bergen",
        "social_links": "Instagram https://instagram.com/nordlys",
    }
    data.update(changes)
    return data


def staff(client, *codenames):
    user = User.objects.create_user("staff", "staff@shop.example", "pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="django_order_mail", codename__in=codenames)
    )
    client.force_login(user)


def test_the_form_starts_from_the_settings(admin_client):
    response = admin_client.get(reverse("admin:django_order_mail_branding_changelist"))
    assert response.url == reverse(ADD)
    form = admin_client.get(reverse(ADD)).context["adminform"].form
    assert form.initial["name"] == "Test Shop"
    assert form.initial["support_phone"] == "+47 22 00 00 00"


def test_saving_changes_the_next_email_at_once(admin_client, order):
    assert get_branding()["name"] == "Test Shop"  # cached now
    response = admin_client.post(reverse(ADD), form_data())
    assert response.status_code == 302
    record = Branding.objects.get()
    assert record.pk == 1 and record.updated_by == "admin"
    assert record.social_links == [{"name": "Instagram", "url": "https://instagram.com/nordlys"}]
    rendered = render_event(MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION))
    assert "Nordlys Goods" in rendered.html and "#0f766e" in rendered.html
    assert "instagram.com/nordlys" in rendered.html
    assert "+47 22 00 00 00" not in rendered.text  # cleared in the admin: not shown


def test_there_is_only_one_record(admin_client):
    admin_client.post(reverse(ADD), form_data())
    assert admin_client.get(reverse(ADD)).status_code == 403
    response = admin_client.get(reverse("admin:django_order_mail_branding_changelist"))
    assert response.url == reverse("admin:django_order_mail_branding_change", args=[1])
    response = admin_client.post(
        reverse("admin:django_order_mail_branding_change", args=[1]), form_data(name="Renamed")
    )
    assert response.status_code == 302
    assert Branding.objects.get().name == "Renamed"
    assert admin_client.post(reverse("admin:django_order_mail_branding_delete", args=[1])).status_code == 403


def test_the_first_save_says_what_it_changed(admin_client):
    response = admin_client.post(reverse(ADD), form_data(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:django_order_mail_branding_change", args=[1])
    assert [str(m) for m in response.context["messages"]] == ["Every email uses the new branding now."]


def test_a_page_asks_once_whether_the_record_exists(admin_client):
    """The navigation asks every model's add permission, the form asks again:
    one query for the answer per request."""
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(reverse(ADD)).status_code == 200
    table = connection.ops.quote_name(Branding._meta.db_table)
    exists = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith(f'SELECT 1 AS "a" FROM {table}')
    ]
    assert len(exists) == 1


def test_bad_values_are_refused(admin_client):
    response = admin_client.post(
        reverse(ADD), form_data(primary_color="red", social_links="Instagram not-a-url")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"primary_color", "social_links"}
    assert "Line 1" in errors["social_links"][0]
    assert not Branding.objects.exists()


def test_preview_uses_unsaved_values_and_saves_nothing(admin_client):
    answer = admin_client.post(
        reverse(PREVIEW), form_data(name="Preview Shop", sender_name="Preview Sender")
    ).json()
    assert answer["ok"]
    assert "Preview Shop" in answer["html"] and "#0f766e" in answer["html"]
    assert answer["from"] == "Preview Sender <orders@shop.example>"
    assert not Branding.objects.exists()


def test_preview_shows_invalid_fields_and_keeps_the_rest(admin_client):
    answer = admin_client.post(
        reverse(PREVIEW), form_data(name="Half Typed", accent_color="#12", preview_event=MailEvent.REFUND)
    ).json()
    assert answer["ok"] and "Half Typed" in answer["html"]
    assert "refund" in answer["subject"]
    assert [p["level"] for p in answer["problems"]] == ["error"]


def test_permissions(client, admin_client):
    staff(client, "view_emailtemplate")
    assert client.get(reverse(ADD)).status_code == 403
    assert client.post(reverse(ADD), form_data()).status_code == 403
    assert client.post(reverse(PREVIEW), form_data()).status_code == 403
    assert not Branding.objects.exists()

    client.logout()
    User.objects.all().delete()
    staff(client, "change_branding")
    assert client.post(reverse(ADD), form_data()).status_code == 302
    assert Branding.objects.get().name == "Nordlys Goods"
