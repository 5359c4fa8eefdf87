"""The unsubscribe pages speak the language of the email the link came from.

The browser asks for German (``Accept-Language: de``); the email was
Norwegian. Every page behind the link - the confirmation, the done page,
the preferences and the error pages of an expired link - is Norwegian. A
link that names no email we can trust (tampered, or its email is gone) gets
the site's language, never the browser's.
"""

import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.tracking.links import preferences_url, unsubscribe_url
from django_order_mail.tracking.models import Suppression
from tests.factories import OrderFactory
from tests.tracking_utils import sent_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    """A German browser."""
    return Client(HTTP_ACCEPT_LANGUAGE="de")


@pytest.fixture
def norwegian(broker, esp):
    return sent_row(OrderFactory(language="nb"), "feedback_request")


def path_of(url):
    return urlsplit(url).path


def assert_language(response, code, text):
    body = response.content.decode()
    assert response["Content-Language"] == code
    assert f'<html lang="{code}"' in body
    assert text in body


def test_the_confirmation_page_follows_the_email_not_the_browser(browser, norwegian):
    response = browser.get(path_of(unsubscribe_url(norwegian.pk)))
    assert response.status_code == 200
    assert_language(response, "nb", "Melde deg av?")
    assert "Abmelden" not in response.content.decode()


def test_the_done_page_follows_the_email(browser, norwegian):
    response = browser.post(path_of(unsubscribe_url(norwegian.pk)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert_language(response, "nb", "Du er meldt av")
    assert Suppression.objects.get().address == norwegian.recipient


def test_the_preferences_page_follows_the_email(browser, norwegian):
    response = browser.get(path_of(preferences_url(norwegian.pk)))
    assert_language(response, "nb", "E-postinnstillinger")


def test_an_expired_link_says_so_in_the_emails_language(browser, norwegian, mail_settings, monkeypatch):
    url = path_of(unsubscribe_url(norwegian.pk))
    mail_settings(UNSUBSCRIBE_LINK_MAX_AGE_DAYS=1)
    frozen = time.time() + 2 * 86400  # two days later, whatever the machine's speed
    monkeypatch.setattr(time, "time", lambda: frozen)
    response = browser.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert_language(response, "nb", "Denne lenken er utløpt")
    assert not Suppression.objects.exists()


def test_a_tampered_link_gets_the_sites_language_not_the_browsers(browser, norwegian, settings):
    url = path_of(unsubscribe_url(norwegian.pk))
    response = browser.get(url[:-3] + "xx/")
    assert response.status_code == 400
    assert_language(response, "en", "This link is not valid")
    settings.LANGUAGE_CODE = "fr"
    assert browser.get(url[:-3] + "xx/")["Content-Language"] == "fr"


def test_a_link_whose_email_is_gone_gets_the_sites_language(browser, norwegian):
    url = path_of(unsubscribe_url(norwegian.pk))
    OutboxEmail.objects.filter(pk=norwegian.pk).delete()
    response = browser.get(url)
    assert response.status_code == 404
    assert_language(response, "en", "This link is not valid")


def test_an_email_without_a_language_gets_the_sites_language(browser, norwegian):
    OutboxEmail.objects.filter(pk=norwegian.pk).update(language="")
    response = browser.get(path_of(unsubscribe_url(norwegian.pk)))
    assert_language(response, "en", "Unsubscribe?")
