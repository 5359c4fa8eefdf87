"""Staff resends: the admin message says what the sender will do.

A resend that the suppression rule (``tracking.suppression.blocks``) or the
one-recipient check will stop is announced as such, with the reason; one
that goes out says so. The order admin's "resend order confirmation" and the
send log's resend (button and bulk action) share ``actions.send_outlook``.
"""

from __future__ import annotations

import pytest
from django.contrib.messages import WARNING
from django.db import transaction
from django.urls import reverse

from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.tracking.models import Suppression
from django_order_mail.tracking.suppression import suppress

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.order_admin_urls")]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def confirmation(order, broker, esp):
    with transaction.atomic():
        order.confirm_payment()
        order.save()
    row = OutboxEmail.for_order(order).get()
    assert deliver(row.pk) == Status.SENT
    return row


def resend_confirmation(client, order):
    url = reverse("admin:testapp_order_order_mail_resend_confirmation", args=[order.pk])
    return client.post(url, follow=True)


def messages_of(response):
    return [(m.level, m.message) for m in response.context["messages"]]


def copy_of(row):
    return OutboxEmail.objects.get(resend_of=row)


def test_a_complaint_does_not_stop_a_resent_confirmation(admin_client, order, confirmation, esp):
    """The reported case: complaint on a shipping email, staff resend the confirmation."""
    suppress(order.email, Suppression.Reason.COMPLAINT, source="Postmark webhook")
    [(level, text)] = messages_of(resend_confirmation(admin_client, order))
    assert text.startswith("The order confirmation is being sent again")
    assert level != WARNING
    assert deliver(copy_of(confirmation).pk) == Status.SENT  # and so it is
    assert len(esp.sent) == 2


def test_a_resend_to_a_hard_bounced_address_says_it_will_be_suppressed(admin_client, order, confirmation):
    suppress(order.email, Suppression.Reason.HARD_BOUNCE, source="Postmark webhook")
    [(level, text)] = messages_of(resend_confirmation(admin_client, order))
    assert level == WARNING
    assert "will not be sent" in text and "being sent again" not in text
    assert f"{order.email} is on the suppression list (Hard bounce, since " in text
    assert deliver(copy_of(confirmation).pk) == Status.SUPPRESSED  # the message told the truth


def test_a_resend_to_an_address_list_says_it_will_fail(admin_client, order, confirmation):
    order.email = "victim@example.com, attacker@evil.example"
    order.save()
    [(level, text)] = messages_of(resend_confirmation(admin_client, order))
    assert level == WARNING and "is not exactly one valid email address" in text
    assert deliver(copy_of(confirmation).pk) == Status.FAILED


def test_send_log_resend_button_and_action_warn_the_same_way(admin_client, order, confirmation):
    suppress(order.email, Suppression.Reason.HARD_BOUNCE, source="Postmark webhook")
    url = reverse("admin:django_order_mail_outboxemail_act", args=[confirmation.pk, "resend"])
    [(level, text)] = messages_of(admin_client.post(url, follow=True))
    copy = copy_of(confirmation)
    assert level == WARNING
    assert text.startswith(f"Queued again as email #{copy.pk}, but it will not be sent: {order.email} is on")

    response = admin_client.post(
        reverse("admin:django_order_mail_outboxemail_changelist"),
        {"action": "resend_emails", "_selected_action": [confirmation.pk], "index": 0},
        follow=True,
    )
    found = messages_of(response)
    assert found[0][1] == "1 email queued again."
    second = OutboxEmail.objects.filter(resend_of=confirmation).exclude(pk=copy.pk).get()
    assert found[1][0] == WARNING
    assert found[1][1].startswith(f"Queued again as email #{second.pk}, but it will not be sent:")


def test_an_unsubscribe_does_not_stop_a_resend_either(admin_client, order, confirmation):
    suppress(order.email, Suppression.Reason.UNSUBSCRIBE, source="one-click unsubscribe")
    url = reverse("admin:django_order_mail_outboxemail_act", args=[confirmation.pk, "resend"])
    [(level, text)] = messages_of(admin_client.post(url, follow=True))
    assert level != WARNING
    assert text == f"Queued again as email #{copy_of(confirmation).pk}."
