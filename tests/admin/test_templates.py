"""The template editor in the admin: save with validation, versions, compare,
revert, reset, live preview, "send me a test", and its permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.models import EmailTemplate, EmailTemplateVersion

pytestmark = pytest.mark.django_db

ADD = "admin:django_order_mail_emailtemplate_add"
PREVIEW = "admin:django_order_mail_emailtemplate_preview"
SEND_TEST = "admin:django_order_mail_emailtemplate_send_test"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff(client, *codenames, email="staff@shop.example"):
    user = User.objects.create_user("staff", email, "pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="django_order_mail", codename__in=codenames)
    assert perms.count() == len(codenames)
    user.user_permissions.add(*perms)
    client.force_login(user)
    return user


def form_data(event=MailEvent.ORDER_CONFIRMATION, language="en", channel="", **changes):
    data = {
        "event": event,
        "language": language,
        "channel": channel,
        "is_active": "on",
        **default_fields(event, channel),
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def create(client, **changes):
    return client.post(reverse(ADD), form_data(**changes))


def change_url(template):
    return reverse("admin:django_order_mail_emailtemplate_change", args=[template.pk])


# -- editing ----------------------------------------------------------------------------


def test_add_form_starts_from_the_default_text(admin_client):
    response = admin_client.get(reverse(ADD), {"event": MailEvent.REFUND})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["subject"] == default_fields(MailEvent.REFUND)["subject"]
    body = response.content.decode()
    assert 'id="order-mail-preview-desktop"' in body and 'id="order-mail-preview-mobile"' in body
    assert "extra.amount" in body  # the refund's variables are listed beside the editor
    assert "refund" in response.context["preview"]["subject"]


def test_save_creates_version_one(admin_client):
    response = create(admin_client, subject="Order {{ order_number }} – thank you!")
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = EmailTemplate.objects.get()
    assert (template.version, template.updated_by) == (1, "admin")
    assert template.versions.get().subject == "Order {{ order_number }} – thank you!"


def test_syntax_error_is_refused_with_line_and_nothing_is_saved(admin_client):
    response = create(admin_client, html_body="<p>Hi</p>\n{% if customer_name %}\n<p>x</p>\n{% endfor %}")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["html_body"]
    assert errors[0].startswith("Line 4:") and "endfor" in errors[0]
    assert not EmailTemplate.objects.exists()
    assert not EmailTemplateVersion.objects.exists()


def test_warnings_need_confirmation(admin_client):
    response = create(admin_client, subject="Order {{ order_numbr }}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "order_numbr" in body and "Save despite the warnings" in body
    assert not EmailTemplate.objects.exists()
    response = create(admin_client, subject="Order {{ order_numbr }}", confirm_warnings="on")
    assert response.status_code == 302
    assert EmailTemplate.objects.get().subject == "Order {{ order_numbr }}"


def test_event_language_and_channel_are_fixed_once_saved(admin_client):
    create(admin_client)
    template = EmailTemplate.objects.get()
    response = admin_client.post(
        change_url(template),
        form_data(event=MailEvent.REFUND, language="de", subject="Changed {{ order_number }}"),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.event, template.language, template.subject) == (
        MailEvent.ORDER_CONFIRMATION,
        "en",
        "Changed {{ order_number }}",
    )
    assert template.version == 2


def test_saving_without_changes_adds_no_version(admin_client):
    create(admin_client)
    template = EmailTemplate.objects.get()
    admin_client.post(change_url(template), form_data())
    template.refresh_from_db()
    assert template.version == 1


def test_a_save_over_someone_elses_newer_version_is_refused(admin_client):
    create(admin_client)
    template = EmailTemplate.objects.get()
    opened = form_data(subject="Mine {{ order_number }}", loaded_version="1")
    template.subject = "Theirs {{ order_number }}"
    template.save_with_version(by="colleague")
    response = admin_client.post(change_url(template), opened)
    assert response.status_code == 200
    assert "Someone else saved" in response.content.decode()
    template.refresh_from_db()
    assert (template.subject, template.version) == ("Theirs {{ order_number }}", 2)


def test_duplicate_template_is_refused(admin_client):
    create(admin_client)
    response = create(admin_client, subject="Again {{ order_number }}")
    assert response.status_code == 200
    assert EmailTemplate.objects.count() == 1


def test_internal_staff_alerts_are_not_editable(admin_client):
    response = create(admin_client, event="low_score_alert")
    assert response.status_code == 200
    assert "event" in response.context["adminform"].form.errors


# -- versions ----------------------------------------------------------------------------


def three_versions(client):
    create(client, subject="One {{ order_number }}")
    template = EmailTemplate.objects.get()
    for subject in ("Two {{ order_number }}", "Three {{ order_number }}"):
        assert client.post(change_url(template), form_data(subject=subject)).status_code == 302
    template.refresh_from_db()
    return template


def test_versions_compare_and_revert(admin_client):
    template = three_versions(admin_client)
    response = admin_client.get(reverse("admin:django_order_mail_emailtemplate_versions", args=[template.pk]))
    assert response.status_code == 200
    assert [v.number for v in response.context["versions"]] == [3, 2, 1]

    response = admin_client.get(
        reverse("admin:django_order_mail_emailtemplate_compare", args=[template.pk]), {"a": 3, "b": 1}
    )
    subject_diff = response.context["diffs"][0]
    assert ("-", "-One {{ order_number }}") in subject_diff["lines"]
    assert ("+", "+Three {{ order_number }}") in subject_diff["lines"]
    assert response.context["diffs"][2]["lines"] == []  # the HTML body did not change

    response = admin_client.post(
        reverse("admin:django_order_mail_emailtemplate_revert", args=[template.pk, 1])
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.subject, template.version) == ("One {{ order_number }}", 4)
    assert template.versions.get(number=4).note == "reverted to version 1"


def test_revert_to_a_version_that_no_longer_validates_is_refused(admin_client):
    template = three_versions(admin_client)
    EmailTemplateVersion.objects.filter(template=template, number=1).update(subject="{% if %}")
    response = admin_client.post(
        reverse("admin:django_order_mail_emailtemplate_revert", args=[template.pk, 1]), follow=True
    )
    assert "no longer works" in response.content.decode()
    template.refresh_from_db()
    assert template.version == 3


def test_reset_to_default(admin_client, order):
    create(admin_client, subject="Edited {{ order_number }}")
    template = EmailTemplate.objects.get()
    response = admin_client.post(reverse("admin:django_order_mail_emailtemplate_reset", args=[template.pk]))
    assert response.status_code == 302
    template.refresh_from_db()
    assert not template.is_active
    assert template.subject == default_fields(MailEvent.ORDER_CONFIRMATION)["subject"]
    assert template.versions.get(number=1).subject == "Edited {{ order_number }}"  # kept to revert to


# -- preview and test email ----------------------------------------------------------------


def preview(client, **changes):
    data = form_data(**changes)
    return client.post(reverse(PREVIEW), data).json()


def test_preview_renders_unsaved_fields_with_the_sample(admin_client):
    answer = preview(admin_client, subject="Hej {{ customer_name }} – {{ order_number }}", language="en")
    assert answer["ok"]
    assert answer["subject"] == "Hej Tina Hansen – 1001"
    assert "Merino wool socks" in answer["html"] and "Merino wool socks" in answer["text"]
    assert answer["label"] == "sample order"
    assert not EmailTemplate.objects.exists()


def test_preview_on_a_saved_template_whose_email_fields_are_disabled(admin_client):
    create(admin_client)
    data = form_data(subject="Saved {{ order_number }}")
    for name in ("event", "language", "channel"):
        data["_" + name] = data.pop(name)
    answer = admin_client.post(reverse(PREVIEW), data).json()
    assert answer["ok"] and answer["subject"] == "Saved 1001"


def test_preview_reports_syntax_errors(admin_client):
    answer = preview(admin_client, subject="{% if %}")
    assert not answer["ok"]
    assert answer["problems"][0]["level"] == "error" and answer["problems"][0]["line"] == 1


def test_preview_with_a_real_order(admin_client, order, no_broker):
    with transaction.atomic():
        enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    answer = preview(
        admin_client, order_number=order.number, subject="{{ order_number }} {{ customer_name }}"
    )
    assert answer["ok"], answer
    assert answer["subject"] == f"{order.number} Tina"
    assert "Wool socks" in answer["text"]
    assert answer["to"] == order.email


def test_preview_of_an_unknown_order_number(admin_client):
    answer = preview(admin_client, order_number="nope")
    assert not answer["ok"] and "nope" in answer["problems"][0]["text"]


def test_real_orders_need_the_send_log_permission(client, order, no_broker):
    with transaction.atomic():
        enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    staff(client, "view_emailtemplate")
    answer = preview(client, order_number=order.number)
    assert not answer["ok"] and "permission" in answer["problems"][0]["text"]
    assert preview(client)["ok"]  # the sample is fine


def test_send_me_a_test_queues_a_logged_test_email_to_the_staff_member(
    admin_client, admin_user, no_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse(SEND_TEST), form_data(subject="Draft {{ order_number }}"))
    answer = response.json()
    assert answer["ok"], answer
    row = OutboxEmail.objects.get()
    assert (row.is_test, row.status, row.recipient, row.subject) == (
        True,
        Status.QUEUED,
        admin_user.email,
        "Draft 1001",
    )
    assert no_broker == [row.pk]
    assert row.logs.get().message == "test email requested by admin"
    assert answer["url"] == reverse("admin:django_order_mail_outboxemail_change", args=[row.pk])


def test_send_test_refuses_errors_and_users_without_address(client, no_broker):
    staff(client, "change_emailtemplate", "view_emailtemplate", email="")
    assert not client.post(reverse(SEND_TEST), form_data()).json()["ok"]
    client.logout()
    User.objects.update(email="staff@shop.example")
    client.force_login(User.objects.get())
    assert not client.post(reverse(SEND_TEST), form_data(subject="{% if %}")).json()["ok"]
    assert not OutboxEmail.objects.exists()


# -- permissions ---------------------------------------------------------------------------


def test_view_only_staff_can_preview_but_not_save_or_send(client, no_broker):
    staff(client, "view_emailtemplate")
    assert client.get(reverse("admin:django_order_mail_emailtemplate_changelist")).status_code == 200
    assert preview(client)["ok"]
    assert create(client).status_code == 403
    assert client.post(reverse(SEND_TEST), form_data()).status_code == 403
    assert not EmailTemplate.objects.exists() and not OutboxEmail.objects.exists()


def test_view_only_staff_cannot_revert_or_reset(client, admin_client):
    template = three_versions(admin_client)
    staff(client, "view_emailtemplate")
    revert = reverse("admin:django_order_mail_emailtemplate_revert", args=[template.pk, 1])
    assert client.post(revert).status_code == 403
    assert (
        client.post(reverse("admin:django_order_mail_emailtemplate_reset", args=[template.pk])).status_code
        == 403
    )
    versions = reverse("admin:django_order_mail_emailtemplate_versions", args=[template.pk])
    assert client.get(versions).status_code == 200
    template.refresh_from_db()
    assert (template.version, template.is_active) == (3, True)


def test_staff_without_template_permissions_are_refused(client):
    staff(client, "view_outboxemail")
    assert client.get(reverse("admin:django_order_mail_emailtemplate_changelist")).status_code == 403
    assert client.post(reverse(PREVIEW), form_data()).status_code == 403
    assert (
        client.get(
            reverse("admin:django_order_mail_emailtemplate_defaults"), {"event": MailEvent.REFUND}
        ).status_code
        == 403
    )


def test_editor_with_change_permission_can_save(client):
    staff(client, "view_emailtemplate", "add_emailtemplate", "change_emailtemplate")
    assert create(client).status_code == 302
    assert EmailTemplate.objects.get().updated_by == "staff"
