"""Email texts in the admin: the overview, the side-by-side editor, saving
with validation, the log of changes, precedence notices, the preview and
the permissions."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailContent, EmailTemplate

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


def test_a_field_that_cannot_be_saved_is_shown_with_its_reason_and_nothing_is_saved(client):
    staff(client, "view_emailcontent", "change_emailcontent")
    response = save(
        client,
        headline="Ihr Paket, {{ order.customer.password }}",
        intro="<script>alert(1)</script>",
        subject="Unterwegs: {{ order_number }}",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "“{{ order.customer.password }}” is not a variable of this email" in errors["headline"][0]
    assert "“<script>”: text fields take plain text" in errors["intro"][0]
    assert "subject" not in errors
    assert "Please correct the errors below. Nothing was saved." in response.content.decode()
    assert not EmailContent.objects.exists()


def test_changing_and_clearing_a_field_are_logged_with_the_field(client):
    user = staff(client, "view_emailcontent", "change_emailcontent")
    save(client, headline="Erste Fassung")
    save(client, headline="Zweite Fassung {{ order_number }}")
    row = EmailContent.objects.get()
    assert row.text == "Zweite Fassung {{ order_number }}"
    change = LogEntry.objects.get(action_flag=CHANGE)
    assert change.user == user and change.get_change_message() == "Changed Headline."
    save(client, headline="")
    assert not EmailContent.objects.exists()  # the packaged text again
    deletion = LogEntry.objects.get(action_flag=DELETION)
    assert deletion.object_repr == "shipping_confirmation · de · headline"
    page = client.get(edit_url()).content.decode()
    assert "Recent changes" in page and "cleared, the packaged text again" in page


def test_two_editors_do_not_overwrite_each_other(client):
    staff(client, "view_emailcontent", "change_emailcontent")
    stale = page_form(client)
    EmailContent.objects.create(event=SHIPPING, language="de", slot="subject", text="Jemand anders")
    response = client.post(edit_url(), {**stale, "headline": "Meins"})
    assert response.status_code == 200
    assert "Someone else saved these texts meanwhile" in response.content.decode()
    assert list(EmailContent.objects.values_list("slot", flat=True)) == ["subject"]


def test_the_editor_shows_the_default_language_beside_and_what_is_missing(client):
    staff(client, "view_emailcontent")
    EmailContent.objects.create(event=SHIPPING, language="en", slot="headline", text="Packed and sent!")
    page = client.get(edit_url()).content.decode()
    assert "English (default language)" in page
    assert "Packed and sent!" in page  # the English edit, beside the German field
    assert "Missing translation:" in page
    assert "Ihre Bestellung {{ order_number }} ist unterwegs" in page  # what German customers get
    assert 'data-chip="{{ shipment.tracking_number }}"' in page
    assert 'data-chip="{{ totals.total|money:currency }}"' in page


@pytest.fixture
def email_without_fields():
    """A shop's own email whose template marks no text field (here: none at all)."""
    from django_order_mail import events

    name = "gift_card_sent"
    events.register_event(name, "Gift card sent")
    yield name
    events._registry.pop(name, None)


def test_the_overview_shows_edited_missing_and_code_templates(client, email_without_fields):
    staff(client, "view_emailcontent")
    EmailContent.objects.create(event=SHIPPING, language="en", slot="headline", text="Packed!")
    EmailContent.objects.create(event=SHIPPING, language="en", slot="subject", text="Sent {{ order_number }}")
    EmailContent.objects.create(event=SHIPPING, language="fr", slot="headline", text="C'est parti !")
    EmailTemplate.objects.create(event=MailEvent.REFUND, language="de", **default_fields(MailEvent.REFUND))
    response = client.get(reverse(OVERVIEW))
    rows = {row["event"]: row for row in response.context["rows"]}
    cells = {item["cell"].language: item["cell"] for item in rows[SHIPPING]["cells"]}
    assert [f.slot.name for f in cells["en"].edited] == ["subject", "headline"]
    assert [f.slot.name for f in cells["de"].missing] == ["subject", "headline"]
    assert [f.slot.name for f in cells["fr"].missing] == ["subject"]
    assert [f.slot.name for f in cells["fr"].edited] == ["headline"]
    refund = {item["cell"].language: item["cell"] for item in rows[MailEvent.REFUND]["cells"]}
    assert refund["de"].code_template is not None and refund["en"].code_template is None
    page = response.content.decode()
    assert "uses the packaged text in Deutsch" in page
    assert "edited as code" in page
    # an email without text fields points to the template editor
    assert rows[email_without_fields]["cells"] is None
    assert "This email has no text fields" in page
    # the feature apps' emails have theirs
    for event in ("feedback_request", "review_reminder", "abandoned_cart", "delivery_exception"):
        assert rows[event]["cells"] is not None, event


def test_a_template_edited_as_code_is_named_on_the_editor_and_the_code_editor(client):
    staff(client, "view_emailcontent", "change_emailcontent", "view_emailtemplate")
    template = EmailTemplate(event=SHIPPING, language="de", **default_fields(SHIPPING))
    template.save_with_version(by="dev")
    page = client.get(edit_url()).content.decode()
    assert "A template edited as code is in use for this email in this language" in page
    response = save(client, headline="Neu")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("it wins, so customers do not get these texts" in m for m in messages)
    code_page = client.get(reverse("admin:django_order_mail_emailtemplate_change", args=[template.pk]))
    assert "wins over the 1 text field edited for this email and language" in code_page.content.decode()


def test_the_preview_renders_the_unsaved_fields_and_reports_the_refused_ones(client):
    staff(client, "view_emailcontent")
    data = {**page_form(client), "headline": "Vorschau für {{ customer_name }}", "button": "{{ nope }}"}
    answer = client.post(reverse("admin:django_order_mail_emailcontent_preview", args=[SHIPPING, "de"]), data)
    preview = answer.json()
    assert preview["ok"] and preview["language"] == "de"
    assert "Vorschau für Tina Hansen" in preview["html"]
    assert "Paket verfolgen" in preview["html"]  # the refused button falls back to the packaged text
    assert [p["field"] for p in preview["problems"]] == ["button"]
    assert not EmailContent.objects.exists()  # a preview saves nothing


def test_send_me_a_test_queues_what_the_preview_shows(client, no_broker):
    staff(client, "view_emailcontent", "change_emailcontent")
    data = {**page_form(client), "headline": "Test für {{ customer_name }}"}
    answer = client.post(
        reverse("admin:django_order_mail_emailcontent_send_test", args=[SHIPPING, "de"]), data
    )
    assert answer.json()["ok"]
    row = OutboxEmail.objects.get(is_test=True)
    assert row.recipient == "staff@shop.example" and row.language == "de"
    assert "Test für Tina Hansen" in row.body_html


@pytest.mark.parametrize(
    ("codenames", "get", "post"),
    [
        ((), 403, 403),
        (("view_emailcontent",), 200, 403),
        (("view_emailcontent", "change_emailcontent"), 200, 302),
    ],
)
def test_only_staff_with_the_permission_change_texts(client, codenames, get, post):
    staff(client, *codenames)
    assert client.get(edit_url()).status_code == get
    assert client.get(reverse(OVERVIEW)).status_code == get
    response = client.post(edit_url(), {"headline": "Hack", "loaded": ""})
    assert response.status_code in (post, 200 if post == 302 else post)
    if post == 403:
        assert not EmailContent.objects.exists()


def test_a_view_only_editor_shows_disabled_fields_and_no_save_button(client):
    staff(client, "view_emailcontent")
    page = client.get(edit_url()).content.decode()
    assert 'name="_save"' not in page
    assert re.search(r'<textarea name="headline"[^>]*disabled', page)


@pytest.mark.parametrize(
    ("event", "language"), [("no_such_email", "de"), (SHIPPING, "xx"), ("gift_card_sent", "de")]
)
def test_an_unknown_email_or_language_is_a_bad_request(client, event, language, email_without_fields):
    staff(client, "view_emailcontent")
    assert client.get(edit_url(event, language)).status_code == 400


def test_a_language_the_package_does_not_translate_shows_every_field_as_not_translated(client, settings):
    settings.LANGUAGES = [*LANGUAGES, ("it", "Italiano")]
    staff(client, "view_emailcontent")
    EmailContent.objects.create(
        event=SHIPPING, language="it", slot="headline", text="Il tuo ordine è in viaggio"
    )
    cells = {
        item["cell"].language: item["cell"]
        for row in client.get(reverse(OVERVIEW)).context["rows"]
        if row["event"] == SHIPPING
        for item in row["cells"]
    }
    italian = cells["it"]
    assert [f.slot.name for f in italian.edited] == ["headline"]
    assert {f.reason for f in italian.missing} == {"untranslated"}
    assert {f.slot.name for f in italian.missing} == {"subject", "preheader", "button", "footer_note"}
    assert cells["de"].missing == []  # German is translated and nothing was edited in English
    page = client.get(edit_url(language="it")).content.decode()
    assert "Not translated:" in page and "so customers get it in English until you write one" in page


# -- the feature apps' emails -------------------------------------------------------------------


def test_a_feature_email_is_edited_like_the_core_ones_with_its_own_note_and_rules(client):
    staff(client, "view_emailcontent", "change_emailcontent")
    page = client.get(edit_url("delivery_exception", "de")).content.decode()
    assert 'id="order-mail-event-note"' in page and "failed delivery attempt" in page
    assert 'data-chip="{{ shipment.tracking_number }}"' in page
    assert "delivery_exception.kind" not in page
    cart = client.get(edit_url("abandoned_cart", "de")).content.decode()
    assert 'data-chip="{{ first_item }}"' in cart and "reminder sequence wins" in cart
    # the feedback request's wording rules, with the reason
    refused = save(client, "feedback_request", "de", intro="Nur wenn Sie zufrieden sind: 5 Sterne bitte!")
    assert refused.status_code == 200 and not EmailContent.objects.exists()
    assert "asks for a positive or top rating" in refused.content.decode()
    saved = save(client, "feedback_request", "de", intro="Sagen Sie uns ehrlich, wie es war.")
    assert saved.status_code == 302
    assert EmailContent.objects.get().text == "Sagen Sie uns ehrlich, wie es war."
