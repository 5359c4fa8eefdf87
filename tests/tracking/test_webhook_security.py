"""Tracking webhooks fail closed, and change the list only for their own email.

* With ``DEBUG = False`` and no webhook credentials (no
  ``ANYMAIL["WEBHOOK_SECRET"]``, no ESP signing key), Anymail's webhook
  views would accept anything: the receiver refuses, Anymail answers 400 and
  nothing is recorded.
* A bounce, complaint, unsubscribe or resubscribe changes the suppression
  list only for the recipient of the outbox row it matched, and only when
  the event names that same address.
"""

import pytest

from django_order_mail.outbox.models import EmailLog
from django_order_mail.tracking.models import Suppression, TrackingEvent
from django_order_mail.tracking.suppression import suppress
from tests.tracking_utils import (
    POSTMARK_URL,
    SENDGRID_URL,
    WEBHOOK_SECRET,
    post_json,
    postmark_bounce,
    postmark_delivery,
    postmark_spam,
    postmark_unsubscribe,
    sendgrid_event,
    sent_row,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning"),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


@pytest.fixture
def row(order, broker, esp):
    return sent_row(order)


@pytest.fixture
def no_credentials(settings):
    settings.ANYMAIL = {}
    settings.DEBUG = False
    return settings


# -- no credentials: refused in production ---------------------------------------------------


@pytest.mark.parametrize("payload", [postmark_bounce, postmark_spam, postmark_delivery])
def test_without_credentials_and_debug_off_every_event_is_refused(client, row, no_credentials, payload):
    response = post_json(client, POSTMARK_URL, payload(row), auth=None)
    assert response.status_code == 400
    assert not TrackingEvent.objects.exists()
    assert not Suppression.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == ""
    assert not EmailLog.objects.filter(email=row).exclude(status="sent").exists()


def test_a_sendgrid_batch_without_credentials_records_nothing(client, row, no_credentials):
    batch = [sendgrid_event(row, "delivered", "sg-1"), sendgrid_event(row, "bounce", "sg-2", type="bounce")]
    assert post_json(client, SENDGRID_URL, batch, auth=None).status_code == 400
    assert not TrackingEvent.objects.exists() and not Suppression.objects.exists()


def test_with_debug_on_an_unauthenticated_webhook_is_still_accepted(client, row, no_credentials):
    """A developer's machine: ``W601`` says so."""
    no_credentials.DEBUG = True
    assert post_json(client, POSTMARK_URL, postmark_delivery(row), auth=None).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == "delivered"


def test_an_esp_signature_counts_as_credentials(client, row, no_credentials, monkeypatch):
    """A view that checks the ESP's own signature (Mailgun, signed SendGrid)
    does not warn about missing basic auth: it is authenticated."""
    from anymail.webhooks.postmark import PostmarkTrackingWebhookView

    monkeypatch.setattr(PostmarkTrackingWebhookView, "warn_if_no_basic_auth", False)
    assert post_json(client, POSTMARK_URL, postmark_delivery(row), auth=None).status_code == 200
    assert TrackingEvent.objects.count() == 1


def test_with_the_secret_set_the_webhook_works_with_debug_off(client, row, no_credentials):
    no_credentials.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET}
    assert post_json(client, POSTMARK_URL, postmark_bounce(row)).status_code == 200
    assert Suppression.objects.get().address == row.recipient


# -- only the matched email's recipient ----------------------------------------------------------


@pytest.fixture
def secret(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.mark.parametrize("payload", [postmark_bounce, postmark_spam, postmark_unsubscribe])
def test_an_event_naming_another_address_suppresses_nothing(client, row, secret, payload):
    body = payload(row)
    body["Email" if "Email" in body else "Recipient"] = "victim@example.com"
    assert post_json(client, POSTMARK_URL, body).status_code == 200
    assert not Suppression.objects.exists()
    note = EmailLog.objects.get(email=row, status="ignored")
    assert "names another recipient" in note.message
    assert TrackingEvent.objects.get().email_id == row.pk  # the event itself is kept


def test_an_event_matching_no_email_of_ours_suppresses_nothing(client, row, secret):
    body = postmark_bounce(row)
    body.update(MessageID="someone-elses-message", Metadata={}, Email="victim@example.com")
    assert post_json(client, POSTMARK_URL, body).status_code == 200
    assert TrackingEvent.objects.get().email_id is None
    assert not Suppression.objects.exists()


def test_the_outbox_id_metadata_cannot_aim_a_bounce_at_another_address(client, order, broker, esp, secret):
    """Matched through metadata (no message id of ours), the event still has
    to name the row's recipient."""
    row = sent_row(order)
    body = postmark_bounce(row)
    body.update(MessageID="unknown-id", Email="victim@example.com")
    post_json(client, POSTMARK_URL, body)
    assert not Suppression.objects.exists()


def test_the_address_is_compared_normalised(client, row, secret):
    body = postmark_bounce(row)
    body["Email"] = row.recipient.upper()
    post_json(client, POSTMARK_URL, body)
    assert Suppression.objects.get().address == row.recipient


def test_a_resubscribe_for_another_address_lifts_nothing(client, row, secret):
    suppress("victim@example.com", Suppression.Reason.UNSUBSCRIBE, source="link")
    body = postmark_unsubscribe(row, suppress=False)
    body["Recipient"] = "victim@example.com"
    post_json(client, POSTMARK_URL, body)
    assert Suppression.objects.filter(address="victim@example.com").exists()
