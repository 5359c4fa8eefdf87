"""The survey accepts only the scale its email asked on, and speaks the
email's language on every page (never the browser's)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db import transaction
from django.test import Client
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.feedback.context import request_context
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.links import feedback_url
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def feedback_row(order, event="feedback_request") -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event)])
    return row


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


def nothing_recorded():
    assert not SurveyResponse.objects.exists()
    assert not OutboxEmail.objects.filter(event="low_score_alert").exists()


# -- the scale ---------------------------------------------------------------------------------------------


def test_the_emails_links_sign_the_configured_scale(order, no_broker, mail_settings):
    mail_settings(FEEDBACK_SCALE="nps")
    context = request_context(order, email_id=7, items=[], order_number=order.number)
    tokens = {token_of(r["url"]) for r in context["feedback_ratings"]} | {token_of(context["feedback_url"])}
    for token in tokens:
        assert signing.loads(token, salt="django_order_mail.links.feedback") == {"e": 7, "s": "nps"}


def test_an_nps_parameter_on_a_csat_link_records_nothing(client, order, no_broker):
    row = feedback_row(order)
    link = feedback_url(row.pk, 4, "csat")
    response = client.get(path_of(link).replace("?score=4", "?nps=0"))
    assert response.status_code == 200
    assert "out of 10" not in response.content.decode()
    both = client.get(path_of(link).replace("?score=4", "?nps=0&score=5"))
    assert "5 out of 5" in both.content.decode()
    saved = SurveyResponse.objects.get()
    assert (saved.scale, saved.score) == ("csat", 5)
    assert not OutboxEmail.objects.filter(event="low_score_alert").exists()


def test_a_csat_parameter_on_an_nps_link_records_nothing(client, order, no_broker, mail_settings):
    mail_settings(FEEDBACK_SCALE="nps")
    row = feedback_row(order)
    assert (
        client.get(path_of(feedback_url(row.pk, 9, "nps")).replace("?nps=9", "?score=1")).status_code == 200
    )
    nothing_recorded()


def test_a_link_keeps_the_scale_it_was_sent_with(client, order, no_broker, mail_settings):
    row = feedback_row(order)
    link = feedback_url(row.pk, 8, "nps")  # sent while the shop asked for NPS
    mail_settings(FEEDBACK_SCALE="csat")
    client.get(path_of(link).replace("?nps=8", "?score=3"))
    assert not SurveyResponse.objects.exists()
    client.get(path_of(link))
    saved = SurveyResponse.objects.get()
    assert (saved.scale, saved.score) == ("nps", 8)


def test_the_form_accepts_only_the_links_scale(client, order, no_broker):
    row = feedback_row(order)
    # An NPS answer recorded on this CSAT email before the scale was checked.
    client.get(path_of(feedback_url(row.pk, 0, "nps")))
    SurveyResponse.objects.update(scale="nps", score=0)
    token = token_of(feedback_url(row.pk, scale="csat"))
    answer = reverse("django_order_mail:feedback_answer", kwargs={"token": token})
    assert client.post(answer, {"score": "9"}).status_code == 400
    saved = SurveyResponse.objects.get()
    assert (saved.scale, saved.score) == ("nps", 0)
    assert client.post(answer, {"score": "4"}).status_code == 302
    saved.refresh_from_db()
    assert (saved.scale, saved.score) == ("csat", 4)


# -- the language ------------------------------------------------------------------------------------------


@pytest.fixture
def nb_row(no_broker):
    return feedback_row(OrderFactory(language="nb"))


@pytest.fixture
def german_browser():
    return Client(headers={"accept-language": "de"})


def test_the_survey_page_its_form_and_rating_labels_follow_the_email_not_the_browser(german_browser, nb_row):
    page = german_browser.get(path_of(feedback_url(nb_row.pk, scale="csat")))
    assert (page.status_code, page["Content-Language"]) == (200, "nb")
    body = page.content.decode()
    assert 'lang="nb"' in body
    assert "1 – Svært misfornøyd" in body and "5 – Svært fornøyd" in body
    assert "Very unhappy" not in body and "Sehr unzufrieden" not in body


def test_form_errors_and_the_thanks_page_follow_the_email(german_browser, nb_row):
    url = reverse("django_order_mail:feedback_answer", kwargs={"token": token_of(feedback_url(nb_row.pk))})
    refused = german_browser.post(url, {"comment": "Hei"})
    assert (refused.status_code, refused["Content-Language"]) == (400, "nb")
    assert "Feltet er påkrevet." in refused.content.decode()
    assert "1 – Svært misfornøyd" in refused.content.decode()
    saved = german_browser.post(url, {"score": "4"})
    thanks = german_browser.get(saved["Location"])
    assert thanks["Content-Language"] == "nb" and 'lang="nb"' in thanks.content.decode()


def test_an_expired_link_says_so_in_the_emails_language(german_browser, nb_row, monkeypatch):
    made_at = int(time.time()) - 61 * 86400
    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        url = feedback_url(nb_row.pk, 1)
    page = german_browser.get(path_of(url))
    assert (page.status_code, page["Content-Language"]) == (400, "nb")
    assert "Denne lenken er utløpt" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_link_to_another_kind_of_email_says_so_in_that_emails_language(german_browser, no_broker):
    confirmation = feedback_row(OrderFactory(language="nb"), MailEvent.ORDER_CONFIRMATION)
    page = german_browser.get(path_of(feedback_url(confirmation.pk, 1)))
    assert (page.status_code, page["Content-Language"]) == (404, "nb")
    assert "Denne lenken er ikke gyldig" in page.content.decode()


def test_the_slow_down_page_follows_the_email(german_browser, nb_row, mail_settings):
    mail_settings(FEEDBACK_RATE_LIMIT={"token": 1, "ip": 100, "window": 3600})
    url = path_of(feedback_url(nb_row.pk, 4))
    assert german_browser.get(url).status_code == 200
    limited = german_browser.get(url)
    assert (limited.status_code, limited["Content-Language"]) == (429, "nb")
    assert "For mange forespørsler" in limited.content.decode()
