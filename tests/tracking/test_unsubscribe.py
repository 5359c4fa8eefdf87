"""One-click unsubscribe (RFC 8058), the confirmation and preference pages."""

import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import COMMERCIAL_EVENTS, MailEvent
from django_order_mail.outbox.models import EmailLog, Status
from django_order_mail.tracking.links import preferences_url, unsubscribe_token, unsubscribe_url
from django_order_mail.tracking.models import Suppression
from tests.tracking_utils import queued_row, sent_row

pytestmark = pytest.mark.django_db


def path_of(url):
    return urlsplit(url).path


@pytest.fixture
def feedback(order, broker, esp):
    return sent_row(order, "feedback_request")


@pytest.fixture
def browser():
    """A client that enforces CSRF like a real browser without a cookie."""
    return Client(enforce_csrf_checks=True)


# -- the headers and the footer link -------------------------------------------------------------


def test_commercial_email_carries_one_click_headers_and_a_footer_link(order, broker, esp, monkeypatch):
    # The token is signed with the second it was made in: the clock stands
    # still so that the header, the body and the expected URL share one.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    row = sent_row(order, "feedback_request")
    message = esp.sent[0]
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://shop.example/mail/unsubscribe/") and header.endswith("/>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url == unsubscribe_url(row.pk)
    assert url in row.body_text
    assert url in row.body_html


def test_transactional_email_has_no_unsubscribe(order, broker, esp):
    row = sent_row(order, MailEvent.ORDER_CONFIRMATION)
    message = esp.sent[0]
    assert "List-Unsubscribe" not in message.extra_headers
    assert "/unsubscribe/" not in row.body_html


def test_token_carries_no_personal_data(feedback):
    token = unsubscribe_token(feedback.pk)
    payload = signing.loads(token, salt="django_order_mail.links.unsubscribe")
    assert payload == {"e": feedback.pk}
    assert feedback.recipient.split("@")[0] not in token


# -- one-click POST ----------------------------------------------------------------------------


def test_one_click_post_needs_no_cookie_csrf_or_login(browser, feedback):
    response = browser.post(
        path_of(unsubscribe_url(feedback.pk)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    entry = Suppression.objects.get()
    assert (entry.address, entry.reason, entry.scope) == (feedback.recipient, "unsubscribe", "commercial")
    assert entry.source == "one-click unsubscribe"
    assert entry.email_id == feedback.pk
    log = EmailLog.objects.get(email=feedback, status="unsubscribed")
    assert "one-click" in log.message
    assert "You are unsubscribed" in response.content.decode()


def test_repeated_one_click_is_idempotent(browser, feedback):
    url = path_of(unsubscribe_url(feedback.pk))
    for _ in range(3):
        assert browser.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Suppression.objects.count() == 1
    assert EmailLog.objects.filter(email=feedback, status="unsubscribed").count() == 1


def test_get_only_shows_a_confirmation_page(browser, feedback):
    """Link scanners open links: a GET must never unsubscribe."""
    response = browser.get(path_of(unsubscribe_url(feedback.pk)))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<form method="post">' in body
    assert feedback.recipient not in body  # masked
    assert "@example.com" in body
    assert "Reminders about items left in your cart" in body
    assert not Suppression.objects.exists()
    assert response["X-Robots-Tag"] == "noindex"
    # The confirmation button posts the form (no one-click body).
    response = browser.post(path_of(unsubscribe_url(feedback.pk)), {"confirm": "1"})
    assert response.status_code == 200
    assert Suppression.objects.get().source == "unsubscribe page"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_other_methods_are_refused(browser, feedback, method):
    response = getattr(browser, method)(path_of(unsubscribe_url(feedback.pk)))
    assert response.status_code == 405
    assert not Suppression.objects.exists()


def test_tampered_token_changes_nothing(browser, feedback):
    url = path_of(unsubscribe_url(feedback.pk))
    response = browser.post(url[:-3] + "xx/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not Suppression.objects.exists()


def test_expired_token_shows_the_expired_page(browser, feedback, mail_settings, monkeypatch):
    url = path_of(unsubscribe_url(feedback.pk))
    mail_settings(UNSUBSCRIBE_LINK_MAX_AGE_DAYS=1)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 86400)
    response = browser.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not Suppression.objects.exists()


def test_link_of_a_deleted_email_is_not_found(browser, feedback):
    url = path_of(unsubscribe_url(feedback.pk))
    feedback.delete()
    assert browser.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 404


def test_unsubscribe_stops_the_next_commercial_email_only(browser, order, broker, esp):
    first = sent_row(order, "feedback_request")
    browser.post(path_of(unsubscribe_url(first.pk)), {"List-Unsubscribe": "One-Click"})
    assert deliver(queued_row(order, MailEvent.ORDER_CONFIRMATION).pk) == Status.SENT
    reminder = queued_row(order, "feedback_request", discriminator="reminder-1")
    assert deliver(reminder.pk) == Status.SUPPRESSED
    assert len(esp.sent) == 2


# -- preferences page ----------------------------------------------------------------------------


def test_preferences_page_lists_commercial_emails_checked(browser, feedback):
    response = browser.get(path_of(preferences_url(feedback.pk)))
    assert response.status_code == 200
    body = response.content.decode()
    # One per commercial event the installed apps registered.
    assert body.count('type="checkbox"') == len(COMMERCIAL_EVENTS) >= 2
    assert body.count(" checked") == len(COMMERCIAL_EVENTS)
    assert "always sent" in body


def test_preferences_save_and_undo(browser, feedback):
    url = path_of(preferences_url(feedback.pk))
    response = browser.post(url, {"events": ["abandoned_cart"]})
    assert response.status_code == 200
    assert "Your choices are saved." in response.content.decode()
    unwanted = set(COMMERCIAL_EVENTS) - {"abandoned_cart"}
    assert "feedback_request" in unwanted
    assert set(Suppression.objects.values_list("scope", flat=True)) == unwanted
    assert response.content.decode().count(" checked") == 1
    browser.post(url, {"events": sorted(COMMERCIAL_EVENTS)})
    assert not Suppression.objects.exists()
    assert EmailLog.objects.filter(email=feedback, status="preferences").count() == 2


def test_preferences_ignore_transactional_or_unknown_events(browser, feedback):
    browser.post(path_of(preferences_url(feedback.pk)), {"events": ["order_confirmation", "<script>"]})
    assert list(Suppression.objects.values_list("scope", flat=True)) == ["commercial"]


def test_preferences_page_of_a_blocked_address_explains_it(browser, feedback):
    Suppression.objects.create(address=feedback.recipient, reason="hard_bounce", scope="all")
    body = browser.get(path_of(preferences_url(feedback.pk))).content.decode()
    assert "could not be delivered" in body
    assert 'type="checkbox"' not in body
