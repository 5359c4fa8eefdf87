"""The public survey pages (feedback/views.py): one-click score, the form,
and the safety rules of a page anyone holding a link can reach."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from django_order_mail.events import MailEvent
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.links import feedback_url, make_token
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def feedback_row(order) -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


@pytest.fixture
def row(order, no_broker):
    return feedback_row(order)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


def answer_url(row) -> str:
    return reverse("django_order_mail:feedback_answer", kwargs={"token": token_of(feedback_url(row.pk))})


# -- one click ---------------------------------------------------------------------------------------------


def test_one_click_records_the_score_at_once(client, row, order):
    response = client.get(path_of(feedback_url(row.pk, 4)))
    assert response.status_code == 200
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.scale, saved.comment) == (4, "csat", "")
    assert saved.order == order
    assert saved.email_id == row.pk
    assert (saved.reference, saved.channel) == (order.number, "web")
    body = response.content.decode()
    assert "4 out of 5" in body
    assert "Your rating is saved" in body


def test_same_click_twice_is_one_unchanged_response(client, row):
    client.get(path_of(feedback_url(row.pk, 5)))
    first = SurveyResponse.objects.get()
    client.get(path_of(feedback_url(row.pk, 5)))
    again = SurveyResponse.objects.get()
    assert again.pk == first.pk
    assert again.updated_at == first.updated_at  # nothing was written


def test_a_later_click_updates_the_score_and_keeps_the_comment(client, row):
    client.get(path_of(feedback_url(row.pk, 2)))
    client.post(answer_url(row), {"score": "2", "comment": "Box was crushed"})
    client.get(path_of(feedback_url(row.pk, 4)))
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.comment) == (4, "Box was crushed")
    assert saved.is_low is False


def test_nps_link_records_on_the_0_to_10_scale(client, row, mail_settings):
    mail_settings(FEEDBACK_SCALE="nps")
    url = feedback_url(row.pk, 0, "nps")
    assert url.endswith("?nps=0")
    response = client.get(path_of(url))
    assert "0 out of 10" in response.content.decode()
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.scale, saved.is_low) == (0, "nps", True)


@pytest.mark.parametrize("query", ["?nps=11", "?nps=-1", "?score=6", "?score=0", "?score=٣", "?score=4.0"])
def test_out_of_scale_clicks_record_nothing(client, row, query):
    response = client.get(path_of(feedback_url(row.pk)) + query)
    assert response.status_code == 200
    assert not SurveyResponse.objects.exists()


def test_browser_prefetch_does_not_count_as_a_click(client, row):
    response = client.get(path_of(feedback_url(row.pk, 1)), headers={"Sec-Purpose": "prefetch;prerender"})
    assert response.status_code == 200
    assert not SurveyResponse.objects.exists()


def test_link_of_a_staff_test_email_records_nothing(client, row):
    OutboxEmail.objects.filter(pk=row.pk).update(is_test=True)
    response = client.get(path_of(feedback_url(row.pk, 1)))
    assert response.status_code == 200
    assert "test email" in response.content.decode()
    assert not SurveyResponse.objects.exists()
    assert not OutboxEmail.objects.filter(event="low_score_alert").exists()


def test_page_speaks_the_customers_language_and_keeps_the_token_on_site(client, no_broker):
    row = feedback_row(OrderFactory(language="nb"))
    response = client.get(path_of(feedback_url(row.pk, 3)))
    assert response["Content-Language"] == "nb"
    assert response["Referrer-Policy"] == "same-origin"
    assert 'lang="nb"' in response.content.decode()


# -- the form ----------------------------------------------------------------------------------------------


def test_plain_form_without_a_click_shows_every_score_and_needs_one(client, row):
    page = client.get(path_of(feedback_url(row.pk))).content.decode()
    for score in range(1, 6):
        assert f'name="score" value="{score}"' in page
    assert "Did your order arrive on time?" in page
    response = client.post(answer_url(row), {"comment": "No score given"})
    assert response.status_code == 400
    assert not SurveyResponse.objects.exists()
    assert "No score given" in response.content.decode()  # what they typed is kept


def test_plain_form_records_score_comment_and_answers(client, row):
    response = client.post(
        answer_url(row),
        {"score": "3", "comment": "  Fine overall  ", "q_arrived_on_time": "no", "q_as_described": "yes"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/thanks/")
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.comment) == (3, "Fine overall")
    assert saved.answers == {"arrived_on_time": "no", "as_described": "yes"}
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.content.decode()


def test_unknown_choice_and_overlong_comment_are_refused_without_saving(client, row):
    client.get(path_of(feedback_url(row.pk, 4)))
    response = client.post(answer_url(row), {"q_arrived_on_time": "maybe", "comment": "x" * 4001})
    assert response.status_code == 400
    saved = SurveyResponse.objects.get()
    assert (saved.comment, saved.answers) == ("", {})


def test_custom_questions_from_settings(client, row, mail_settings):
    mail_settings(
        FEEDBACK_QUESTIONS=[
            {
                "id": "channel",
                "label": "How did you find us?",
                "type": "choice",
                "choices": [["search", "Search engine"], ["friend", "A friend"]],
            },
            {"id": "wish", "label": "What should we sell next?", "type": "text"},
        ]
    )
    page = client.get(path_of(feedback_url(row.pk, 5))).content.decode()
    assert "How did you find us?" in page and "Did your order arrive" not in page
    client.post(answer_url(row), {"q_channel": "friend", "q_wish": "Mittens"})
    assert SurveyResponse.objects.get().answers == {"channel": "friend", "wish": "Mittens"}


def test_comment_form_is_csrf_protected(row):
    strict = Client(enforce_csrf_checks=True)
    strict.get(path_of(feedback_url(row.pk, 4)))
    forged = strict.post(answer_url(row), {"comment": "forged"})
    assert forged.status_code == 403
    token = strict.cookies["csrftoken"].value
    ok = strict.post(answer_url(row), {"comment": "real", "csrfmiddlewaretoken": token})
    assert ok.status_code == 302
    assert SurveyResponse.objects.get().comment == "real"


def test_landing_page_is_get_only_and_answer_is_post_only(client, row):
    assert client.post(path_of(feedback_url(row.pk, 4))).status_code == 405
    assert client.get(answer_url(row)).status_code == 405


def test_comment_is_escaped_on_the_page(client, row):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.get(path_of(feedback_url(row.pk, 2)))
    client.post(answer_url(row), {"comment": evil})
    page = client.get(path_of(feedback_url(row.pk))).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


# -- one order's link never touches another order ----------------------------------------------------------


def test_answers_go_to_the_links_order_whatever_the_form_says(client, no_broker):
    mine, theirs = OrderFactory(), OrderFactory()
    my_row, their_row = feedback_row(mine), feedback_row(theirs)
    client.get(path_of(feedback_url(their_row.pk, 5)))
    response = client.post(
        answer_url(my_row),
        {
            "score": "1",
            "comment": "mine",
            "object_id": str(theirs.pk),
            "email": str(their_row.pk),
            "e": str(their_row.pk),
            "token": token_of(feedback_url(their_row.pk)),
        },
    )
    assert response.status_code == 302
    assert SurveyResponse.objects.get(object_id=str(mine.pk)).comment == "mine"
    theirs_saved = SurveyResponse.objects.get(object_id=str(theirs.pk))
    assert (theirs_saved.score, theirs_saved.comment) == (5, "")


def test_a_token_for_a_non_feedback_email_is_not_a_survey_link(client, order, no_broker):
    with transaction.atomic():
        [confirmation] = enqueue(order, [PendingMail(MailEvent.ORDER_CONFIRMATION)])
    response = client.get(path_of(feedback_url(confirmation.pk, 1)))
    assert response.status_code == 404
    assert not SurveyResponse.objects.exists()


# -- bad links record nothing ------------------------------------------------------------------------------


def test_tampered_token_records_nothing_on_click_or_post(client, row):
    token = make_token("feedback", {"e": row.pk})
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    click = client.get(reverse("django_order_mail:feedback", kwargs={"token": tampered}) + "?score=1")
    post = client.post(
        reverse("django_order_mail:feedback_answer", kwargs={"token": tampered}), {"score": "1"}
    )
    assert click.status_code == 400 and post.status_code == 400
    assert "not valid" in click.content.decode()
    assert not SurveyResponse.objects.exists()


def test_expired_token_records_nothing(client, row, monkeypatch):
    made_at = int(time.time()) - 61 * 86400
    with monkeypatch.context() as m:
        m.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made_at))
        url = feedback_url(row.pk, 1)
    click = client.get(path_of(url))
    post = client.post(
        reverse("django_order_mail:feedback_answer", kwargs={"token": token_of(url)}), {"score": "1"}
    )
    assert click.status_code == 400 and post.status_code == 400
    assert "expired" in click.content.decode()
    assert not SurveyResponse.objects.exists()


# -- rate limits -------------------------------------------------------------------------------------------


@pytest.fixture
def frozen_clock(monkeypatch):
    """One instant inside one rate-limit window, however slow the machine."""
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)


def test_rate_limit_per_link_refuses_and_records_nothing(client, row, mail_settings, frozen_clock):
    mail_settings(FEEDBACK_RATE_LIMIT={"token": 3, "ip": 100, "window": 3600})
    for _ in range(3):
        assert client.get(path_of(feedback_url(row.pk, 5))).status_code == 200
    limited = client.get(path_of(feedback_url(row.pk, 1)))
    assert limited.status_code == 429
    assert "Too many requests" in limited.content.decode()
    assert SurveyResponse.objects.get().score == 5
    assert client.post(answer_url(row), {"comment": "late"}).status_code == 429
    assert SurveyResponse.objects.get().comment == ""


def test_rate_limit_per_link_counts_the_email_not_the_token_string(client, row, mail_settings, monkeypatch):
    """Each render signs a new token (the signature carries the second it
    was made): links of one email signed at different times share a counter."""
    mail_settings(FEEDBACK_RATE_LIMIT={"token": 3, "ip": 100, "window": 3600})
    start = 1_800_000_000.0  # the start of a rate-limit window
    urls = []
    for second in range(4):
        monkeypatch.setattr(time, "time", lambda second=second: start + second)
        urls.append(path_of(feedback_url(row.pk, 5)))
    assert len(set(urls)) == 4  # four different token strings
    monkeypatch.setattr(time, "time", lambda: start + 10)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200, 429]


def test_rate_limit_per_ip_spans_links(client, no_broker, mail_settings, frozen_clock):
    mail_settings(FEEDBACK_RATE_LIMIT={"token": 100, "ip": 2, "window": 3600})
    rows = [feedback_row(OrderFactory()) for _ in range(3)]
    assert client.get(path_of(feedback_url(rows[0].pk, 4))).status_code == 200
    assert client.get(path_of(feedback_url(rows[1].pk, 4))).status_code == 200
    assert client.get(path_of(feedback_url(rows[2].pk, 4))).status_code == 429
    other_ip = client.get(path_of(feedback_url(rows[2].pk, 4)), REMOTE_ADDR="203.0.113.9")
    assert other_ip.status_code == 200
    assert SurveyResponse.objects.count() == 3


def test_rate_limit_window_resets():
    from django_order_mail import ratelimit

    conf = {"token": 1, "ip": None, "window": 60}
    request = RequestFactory().get("/")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(time, "time", lambda: 1_800_000_000.0)
        assert ratelimit.allow(request, "email:1", scope="feedback", conf=conf)
        assert not ratelimit.allow(request, "email:1", scope="feedback", conf=conf)
        assert ratelimit.allow(request, "email:2", scope="feedback", conf=conf)  # another link
        m.setattr(time, "time", lambda: 1_800_000_000.0 + 120)  # two windows later
        assert ratelimit.allow(request, "email:1", scope="feedback", conf=conf)


# -- review links and products on the page -----------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 5])
def test_review_links_are_offered_whatever_the_score(client, row, mail_settings, score):
    mail_settings(FEEDBACK_REVIEW_URL="https://shop.example/review/{name}/")
    page = client.get(path_of(feedback_url(row.pk, score))).content.decode()
    assert "https://shop.example/review/Wool socks/" in page
    assert "Review Wool socks" in page
    assert "honest review" in page


def test_products_from_the_order_hook(client, row, monkeypatch):
    from tests.testapp.models import Order

    products = [
        {"name": "Mittens <b>", "url": "https://shop.example/mittens", "price": "$19"},
        {"name": "Bad link", "url": "javascript:alert(1)"},
    ]
    monkeypatch.setattr(Order, "get_mail_recommended_products", lambda self: products, raising=False)
    page = client.get(path_of(feedback_url(row.pk, 4))).content.decode()
    assert "https://shop.example/mittens" in page and "Mittens &lt;b&gt;" in page
    assert "javascript:" not in page


def test_a_broken_shop_hook_costs_only_the_extras(client, row, monkeypatch):
    from tests.testapp.models import Order

    def broken(self, item):
        raise RuntimeError("hook bug")

    monkeypatch.setattr(Order, "get_mail_review_url", broken, raising=False)
    response = client.get(path_of(feedback_url(row.pk, 2)))
    assert response.status_code == 200
    assert SurveyResponse.objects.get().score == 2
