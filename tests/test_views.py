"""Customer landing pages behind signed links (views.py, rendering/links.py)."""

import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db import transaction
from django.urls import reverse

from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.rendering.links import feedback_url, make_token

pytestmark = pytest.mark.django_db

SALT = "django_order_mail.links.feedback"


@pytest.fixture
def feedback_row(order, no_broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_valid_link_renders_thanks_page(client, feedback_row):
    url = feedback_url(feedback_row.pk)
    assert url.startswith("https://shop.example/mail/feedback/")
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert "Test Shop" in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_rating_link_shows_the_score(client, feedback_row, order):
    response = client.get(path_of(feedback_url(feedback_row.pk, 4)))
    assert response.status_code == 200
    body = response.content.decode()
    assert order.number in body
    assert "4 out of 5" in body


@pytest.mark.parametrize("score", ["0", "6", "abc", "-1", ""])
def test_out_of_range_score_is_ignored(client, feedback_row, score):
    response = client.get(path_of(feedback_url(feedback_row.pk)) + f"?score={score}")
    assert response.status_code == 200
    assert "out of 5" not in response.content.decode()


def test_superscript_score_does_not_crash(client, feedback_row):
    response = client.get(path_of(feedback_url(feedback_row.pk)) + "?score=²")
    assert response.status_code == 200


def test_tampered_token_gets_a_friendly_400(client, feedback_row):
    token = make_token("feedback", {"e": feedback_row.pk})
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = client.get(reverse("django_order_mail:feedback", kwargs={"token": tampered}))
    assert response.status_code == 400
    body = response.content.decode()
    assert "not valid" in body
    assert "help@shop.example" in body


def test_token_for_another_purpose_is_rejected(client, feedback_row):
    token = make_token("order-status", {"e": feedback_row.pk})
    response = client.get(reverse("django_order_mail:feedback", kwargs={"token": token}))
    assert response.status_code == 400


def test_expired_token_gets_expired_page(client, feedback_row, monkeypatch, mail_settings):
    mail_settings(LINK_MAX_AGE_DAYS=30)
    made_at = int(time.time()) - 31 * 86400
    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        url = feedback_url(feedback_row.pk)
    response = client.get(path_of(url))
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_token_within_max_age_is_accepted(client, feedback_row, monkeypatch):
    made_at = int(time.time()) - 59 * 86400  # default LINK_MAX_AGE_DAYS is 60
    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        url = feedback_url(feedback_row.pk)
    assert client.get(path_of(url)).status_code == 200


def test_token_for_missing_row_is_404(client, feedback_row):
    url = feedback_url(feedback_row.pk + 1000)
    response = client.get(path_of(url))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_post_is_not_allowed(client, feedback_row):
    assert client.post(path_of(feedback_url(feedback_row.pk))).status_code == 405


def test_token_carries_no_personal_data(feedback_row, order):
    url = feedback_url(feedback_row.pk, 5)
    token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]
    payload = signing.loads(token, salt=SALT)
    assert set(payload) == {"e"}
    assert payload["e"] == feedback_row.pk
    assert order.email not in url
    assert order.customer_name not in url
    assert order.number not in url
