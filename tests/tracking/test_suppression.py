"""The suppression policy at send time, and the suppression list in admin."""

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import COMMERCIAL_EVENTS, MailEvent
from django_order_mail.outbox import actions
from django_order_mail.outbox.models import EmailLog, Status
from django_order_mail.tracking.links import preferences_url
from django_order_mail.tracking.models import Suppression, TrackingEvent
from django_order_mail.tracking.suppression import (
    blocks,
    set_preferences,
    suppress,
    suppression_for,
    unsubscribed_events,
)
from tests.tracking_utils import queued_row, sent_row

pytestmark = pytest.mark.django_db

R, S = Suppression.Reason, Suppression.Scope


def send(order, event):
    row = queued_row(order, event)
    outcome = deliver(row.pk)
    row.refresh_from_db()
    return outcome, row


def test_hard_bounced_address_gets_no_email_at_all(order, broker, esp):
    suppress(order.email.upper(), R.HARD_BOUNCE, source="Postmark webhook")  # case does not matter
    outcome, row = send(order, MailEvent.ORDER_CONFIRMATION)
    assert outcome == Status.SUPPRESSED
    assert esp.sent == []
    assert row.status == Status.SUPPRESSED
    assert row.recipient == order.email
    assert "hard bounce" in row.last_error and "Postmark webhook" in row.last_error
    log = EmailLog.objects.get(email=row, status=Status.SUPPRESSED)
    assert log.message == row.last_error
    assert send(order, "feedback_request")[0] == Status.SUPPRESSED


def test_complaint_stops_commercial_mail_only(order, broker, esp):
    """events.py: only a hard bounce blocks transactional mail."""
    suppress(order.email, R.COMPLAINT, source="Postmark webhook")
    assert send(order, MailEvent.ORDER_CONFIRMATION)[0] == Status.SENT
    outcome, row = send(order, "feedback_request")
    assert outcome == Status.SUPPRESSED
    assert "complaint" in row.last_error and "applies to: commercial" in row.last_error
    assert len(esp.sent) == 1


def test_complaint_on_a_shipping_email_does_not_stop_a_resent_confirmation(order, broker, esp):
    """The reported case: a complaint about one email, then staff resend the
    order confirmation; it is sent, and nothing said otherwise beforehand."""
    confirmation = send(order, MailEvent.ORDER_CONFIRMATION)[1]
    suppress(order.email, R.COMPLAINT, source="Postmark webhook", email=confirmation)
    copy = actions.resend(confirmation)
    assert actions.send_outlook(copy) is None
    assert deliver(copy.pk) == Status.SENT


@pytest.mark.parametrize(
    ("reason", "scope", "transactional", "commercial"),
    [
        (R.HARD_BOUNCE, S.ALL, True, True),
        (R.COMPLAINT, S.ALL, False, True),
        (R.UNSUBSCRIBE, S.COMMERCIAL, False, True),
        (R.UNSUBSCRIBE, S.ALL, False, True),
        (R.MANUAL, S.ALL, True, True),  # staff chose "all emails"
        (R.MANUAL, S.COMMERCIAL, False, True),
        (R.UNSUBSCRIBE, "abandoned_cart", False, False),  # feedback requests still go
    ],
)
def test_the_one_rule(reason, scope, transactional, commercial):
    entry = Suppression(address="a@example.com", reason=reason, scope=scope)
    assert blocks(entry, MailEvent.ORDER_CONFIRMATION) is transactional
    assert blocks(entry, MailEvent.SHIPPING_CONFIRMATION) is transactional
    assert blocks(entry, "feedback_request") is commercial
    entry.save()
    assert (suppression_for("a@example.com", MailEvent.REFUND) is not None) is transactional
    assert (suppression_for("A@example.com", "feedback_request") is not None) is commercial


def test_a_hard_bounce_after_a_complaint_stops_transactional_mail(order, broker, esp):
    """Both are stored for "all": the bounce must not be lost behind the complaint."""
    suppress(order.email, R.COMPLAINT, source="Postmark webhook", note="reported by Gmail")
    entry, changed = suppress(order.email, R.HARD_BOUNCE, source="SendGrid webhook")
    assert changed and (entry.reason, entry.source, entry.note) == (
        R.HARD_BOUNCE,
        "SendGrid webhook",
        "reported by Gmail",
    )
    assert Suppression.objects.get().reason == R.HARD_BOUNCE
    assert send(order, MailEvent.ORDER_CONFIRMATION)[0] == Status.SUPPRESSED
    assert suppress(order.email, R.COMPLAINT) == (entry, False)  # never downgraded
    assert Suppression.objects.get().reason == R.HARD_BOUNCE


def test_the_resend_message_is_told_the_same_rule(order, broker, esp):
    row = send(order, MailEvent.ORDER_CONFIRMATION)[1]
    suppress(order.email, R.HARD_BOUNCE, source="Postmark webhook")
    copy = actions.resend(row)
    outlook = actions.send_outlook(copy)
    assert order.email in outlook and "Hard bounce" in outlook
    assert deliver(copy.pk) == Status.SUPPRESSED


def test_unsubscribed_customer_still_gets_transactional_mail(order, broker, esp):
    suppress(order.email, R.UNSUBSCRIBE)
    assert send(order, MailEvent.ORDER_CONFIRMATION)[0] == Status.SENT
    outcome, row = send(order, "feedback_request")
    assert outcome == Status.SUPPRESSED
    assert "unsubscribe" in row.last_error and "commercial" in row.last_error
    assert len(esp.sent) == 1


def test_suppression_follows_the_orders_current_address(order, broker, esp):
    """The check runs on the address actually used, right before sending."""
    suppress("old@example.com", R.HARD_BOUNCE)
    order.email = "old@example.com"
    order.save()
    row = queued_row(order)
    order.email = "fixed@example.com"
    order.save()
    assert deliver(row.pk) == Status.SENT
    assert esp.sent[0].to == ["fixed@example.com"]


def test_per_event_unsubscribe(order, broker, esp):
    suppress(order.email, R.UNSUBSCRIBE, scope="abandoned_cart")
    assert suppression_for(order.email, "abandoned_cart") is not None
    assert suppression_for(order.email, "feedback_request") is None
    assert send(order, "feedback_request")[0] == Status.SENT


def test_all_scope_wins_when_several_apply():
    suppress("a@example.com", R.UNSUBSCRIBE)
    suppress("a@example.com", R.HARD_BOUNCE)
    assert suppression_for("a@example.com", "feedback_request").reason == R.HARD_BOUNCE


def test_addresses_with_a_display_name_are_matched():
    suppress("Tina <Tina@Example.com>", R.HARD_BOUNCE)
    assert suppression_for("tina@example.com", MailEvent.ORDER_CONFIRMATION) is not None
    assert suppression_for('"Tina T." <tina@example.com>', MailEvent.ORDER_CONFIRMATION) is not None


def test_suppress_is_idempotent_and_keeps_the_first_reason():
    first, created = suppress("b@example.com", R.HARD_BOUNCE, source="one")
    again, created_again = suppress("B@example.com ", R.COMPLAINT, source="two")
    assert created and not created_again
    assert again.pk == first.pk and again.reason == R.HARD_BOUNCE
    assert suppress("", R.HARD_BOUNCE) == (None, False)


def test_preferences_replace_only_the_customers_own_unsubscribes():
    address = "c@example.com"
    suppress(address, R.MANUAL, scope="feedback_request", source="staff")
    assert (
        set_preferences(address, set(), source="page")
        == set(COMMERCIAL_EVENTS)
        >= {
            "abandoned_cart",
            "feedback_request",
        }
    )
    assert set(Suppression.objects.values_list("reason", "scope")) == {
        (R.MANUAL, "feedback_request"),
        (R.UNSUBSCRIBE, S.COMMERCIAL),
    }
    # Wants abandoned-cart mail back: the blanket unsubscribe goes; the
    # staff entry already covers feedback requests, and every other
    # commercial event an installed app registered gets its own row.
    others = set(COMMERCIAL_EVENTS) - {"abandoned_cart", "feedback_request"}
    assert set_preferences(address, {"abandoned_cart"}, source="page") == set(COMMERCIAL_EVENTS) - {
        "abandoned_cart"
    }
    assert set(Suppression.objects.values_list("reason", "scope")) == {
        (R.MANUAL, "feedback_request"),
        *((R.UNSUBSCRIBE, event) for event in others),
    }
    # Another customer: per-event rows replace the blanket one.
    set_preferences("d@example.com", set(), source="page")
    set_preferences("d@example.com", {"feedback_request"}, source="page")
    assert set(Suppression.objects.filter(address="d@example.com").values_list("scope", flat=True)) == (
        set(COMMERCIAL_EVENTS) - {"feedback_request"}
    )
    # Wants everything: the staff entry stays.
    assert set_preferences(address, set(COMMERCIAL_EVENTS), source="page") == {"feedback_request"}
    assert list(Suppression.objects.filter(address=address).values_list("reason", flat=True)) == [R.MANUAL]
    assert unsubscribed_events("nobody@example.com") == set()


def test_the_preference_page_tells_a_complainer_the_truth(client, order, broker, esp):
    """Orders' emails still go after a complaint; the page must not say "no email at all"."""
    row = sent_row(order, "feedback_request")
    url = urlsplit(preferences_url(row.pk)).path
    suppress(order.email, R.COMPLAINT, source="Postmark webhook")
    body = client.get(url).content.decode()
    assert "We send only the emails about your orders to" in body
    assert "We do not send any email" not in body and 'type="checkbox"' not in body
    suppress(order.email, R.HARD_BOUNCE, source="Postmark webhook")
    body = client.get(url).content.decode()
    assert "We do not send any email" in body


# -- admin ----------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@shop.example", "pw")
    client.force_login(user)
    return client


def test_staff_see_and_edit_the_suppression_list(staff_client):
    suppress("bounced@example.com", R.HARD_BOUNCE, source="Postmark webhook")
    listing = staff_client.get("/admin/order_mail_tracking/suppression/")
    assert listing.status_code == 200
    assert "bounced@example.com" in listing.content.decode()

    response = staff_client.post(
        "/admin/order_mail_tracking/suppression/add/",
        {"address": "Typo@Example.com", "scope": "all", "reason": "manual", "note": "asked by phone"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Suppression.objects.get(address="typo@example.com")
    assert added.source == "admin (boss)" and added.note == "asked by phone"

    duplicate = staff_client.post(
        "/admin/order_mail_tracking/suppression/add/",
        {"address": "TYPO@example.com", "scope": "all", "reason": "manual"},
    )
    assert duplicate.status_code == 200 and "already exists" in duplicate.content.decode()
    assert Suppression.objects.filter(address="typo@example.com").count() == 1

    entry = Suppression.objects.get(address="bounced@example.com")
    response = staff_client.post(
        f"/admin/order_mail_tracking/suppression/{entry.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Suppression.objects.filter(address="bounced@example.com").exists()


def test_tracking_events_are_read_only_in_admin(staff_client, order, broker, esp):
    row = sent_row(order)
    TrackingEvent.objects.create(esp="Postmark", event_id="1", event_type="delivered", email=row)
    listing = staff_client.get("/admin/order_mail_tracking/trackingevent/")
    assert listing.status_code == 200
    assert f"/admin/django_order_mail/outboxemail/{row.pk}/change/" in listing.content.decode()
    assert staff_client.get("/admin/order_mail_tracking/trackingevent/add/").status_code == 403
