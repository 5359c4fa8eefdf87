"""Email texts in the admin: the overview, the side-by-side editor, saving
with validation, the log of changes, precedence notices, the preview and
the permissions."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.rendering.models import EmailContent

pytestmark = pytest.mark.django_db

SHIPPING = MailEvent.SHIPPING_CONFIRMATION
OVERVIEW = "admin:django_order_mail_emailcontent_changelist"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français")]


@pytest.fixture(autouse=True)
def shop_languages(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.LANGUAGES = LANGUAGES


def staff(client, *codenames, email="staff@shop.example"):
    user = User.objects.create_user("staff", email, "pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="django_order_mail", codename__in=codenames)
    assert perms.count() == len(codenames)
    user.user_permissions.add(*perms)
    client.force_login(user)
    return user


def edit_url(event=SHIPPING, language="de"):
    return reverse("admin:django_order_mail_emailcontent_edit", args=[event, language])


def page_form(client, event=SHIPPING, language="de"):
    """The form as the page holds it: every field and the hidden fingerprint."""
    form = client.get(edit_url(event, language)).context["form"]
    return {name: form[name].value() or "" for name in form.fields}


def save(client, event=SHIPPING, language="de", **fields):
    data = {**page_form(client, event, language), **fields}
    return client.post(edit_url(event, language), data)


def test_the_editor_saves_one_field_and_logs_who_changed_which(client):
    user = staff(client, "view_emailcontent", "change_emailcontent")
    response = save(client, headline="Ihr Paket ist unterwegs, {{ customer_name }}!")
    assert response.status_code == 302
    row = EmailContent.objects.get()
    assert (row.event, row.language, row.slot) == (SHIPPING, "de", "headline")
    assert row.text == "Ihr Paket ist unterwegs, {{ customer_name }}!"
    assert row.updated_by == "staff"
    entry = LogEntry.objects.get()
    assert (entry.user, entry.action_flag) == (user, ADDITION)
    assert entry.object_repr == "shipping_confirmation · de · headline"
    assert "Headline" in entry.get_change_message()
