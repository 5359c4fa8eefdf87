"""The send log in the Django admin and its staff actions (admin.py)."""

import pytest
from django.contrib.auth.models import Permission, User
from django.db import transaction
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:django_order_mail_outboxemail_changelist"


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def row(order, no_broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    OutboxEmail.objects.filter(pk=row.pk).update(status=Status.SENT)
    row.refresh_from_db()
    return row


def staff_user(*codenames):
    user = User.objects.create_user("staff", "staff@shop.example", "pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="django_order_mail", codename__in=codenames)
    assert perms.count() == len(codenames)
    user.user_permissions.add(*perms)
    return user


def run_action(client, action, *rows):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [r.pk for r in rows], "index": 0},
    )


def action_names(response):
    form = response.context["action_form"]
    if form is None:  # no action at all is offered
        return []
    return [name for name, _label in form.fields["action"].choices if name]


def test_superuser_sees_the_send_log(admin_client, row):
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    body = response.content.decode()
    assert row.reference in body
    assert row.recipient in body
    assert {"resend_emails", "retry_emails", "cancel_emails"} <= set(action_names(response))
    assert "delete_selected" not in action_names(response)


def test_superuser_sees_one_row_with_its_timeline(admin_client, row):
    row.log(Status.SENT, "accepted by the ESP as esp-42")
    response = admin_client.get(reverse("admin:django_order_mail_outboxemail_change", args=[row.pk]))
    assert response.status_code == 200
    assert "esp-42" in response.content.decode()


def test_search_by_reference(admin_client, row):
    response = admin_client.get(reverse(CHANGELIST), {"q": row.reference})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [row]


def test_superuser_resend_creates_a_linked_row(admin_client, row):
    response = run_action(admin_client, "resend_emails", row)
    assert response.status_code == 302
    copy = OutboxEmail.objects.get(resend_of=row)
    assert copy.status == Status.QUEUED
    assert EmailLog.objects.get(email=copy).message == f"resend of #{row.pk} by admin"
    row.refresh_from_db()
    assert row.status == Status.SENT


def test_superuser_retry_and_cancel(admin_client, row, order, no_broker):
    OutboxEmail.objects.filter(pk=row.pk).update(status=Status.FAILED, attempts=8)
    with transaction.atomic():
        [queued] = enqueue(order, [PendingMail(MailEvent.DELIVERED)])
    assert run_action(admin_client, "retry_emails", row).status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.QUEUED, 0)
    assert run_action(admin_client, "cancel_emails", queued).status_code == 302
    queued.refresh_from_db()
    assert queued.status == Status.CANCELLED
    assert queued.last_error == "cancelled by staff (admin)"


def test_view_only_staff_cannot_resend(client, row):
    client.force_login(staff_user("view_outboxemail"))
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert not {"resend_emails", "retry_emails", "cancel_emails"} & set(action_names(response))
    response = run_action(client, "resend_emails", row)
    assert response.status_code in (200, 302, 403)
    assert not OutboxEmail.objects.filter(resend_of=row).exists()
    assert OutboxEmail.objects.count() == 1


def test_staff_with_resend_permission_can_resend(client, row):
    client.force_login(staff_user("view_outboxemail", "resend_outboxemail"))
    response = client.get(reverse(CHANGELIST))
    assert "resend_emails" in action_names(response)
    run_action(client, "resend_emails", row)
    assert OutboxEmail.objects.filter(resend_of=row).count() == 1


def test_staff_without_view_permission_is_refused(client, row):
    client.force_login(staff_user())
    assert client.get(reverse(CHANGELIST)).status_code == 403


def test_rows_are_read_only(admin_client, row):
    response = admin_client.post(
        reverse("admin:django_order_mail_outboxemail_change", args=[row.pk]), {"status": Status.QUEUED}
    )
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:django_order_mail_outboxemail_add")).status_code == 403
    row.refresh_from_db()
    assert row.status == Status.SENT
