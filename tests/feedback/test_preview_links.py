"""Links of staff previews and "send me a test" emails record nothing.

A preview may be rendered against a real order; its rating, survey,
unsubscribe and cart-restore links must not act on that customer's rows.
They carry a signed preview marker instead of an outbox row id, and every
customer view answers them with the "test email" page in the email's
language. So do links naming an ``is_test`` outbox row (the List-Unsubscribe
header of a test email).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from django_order_mail.carts.links import SESSION_KEY, restore_url
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail
from django_order_mail.rendering.db_loader import default_fields
from django_order_mail.rendering.links import feedback_url, preview_links
from django_order_mail.rendering.sample import sample_context
from django_order_mail.tracking.links import preferences_url, unsubscribe_url
from django_order_mail.tracking.models import Suppression
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

PREVIEW = "admin:django_order_mail_emailtemplate_preview"
SEND_TEST = "admin:django_order_mail_emailtemplate_send_test"
TEST_PAGE_EN = "This is a test email"
TEST_PAGE_NB = "Dette er en test-e-post"


@pytest.fixture
def customer(no_broker):
    """A Norwegian customer whose feedback request went out and who answered 5."""
    order = OrderFactory(language="nb")
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    Client().get(path_of(feedback_url(row.pk, 5, "csat")))
    assert SurveyResponse.objects.get().score == 5
    return order, row


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def links(markup: str, kind: str) -> list[str]:
    return [
        html.unescape(h) for h in re.findall(rf'href="(https://shop\.example/mail/{kind}/[^"]+)"', markup)
    ]


def editor_data(event, language, **changes) -> dict:
    return {"event": event, "language": language, "channel": "", **default_fields(event, ""), **changes}


def nothing_recorded_for(order):
    saved = SurveyResponse.objects.get(object_id=str(order.pk))
    assert (saved.score, saved.comment) == (5, "")
    assert saved.history.count() == 1
    assert not OutboxEmail.objects.filter(event="low_score_alert").exists()
    assert not Suppression.objects.exists()


def test_preview_of_a_real_order_carries_no_link_to_the_customers_rows(admin_client, customer):
    order, _row = customer
    answer = admin_client.post(
        reverse(PREVIEW), editor_data("feedback_request", "nb", order_number=order.number)
    ).json()
    assert answer["ok"], answer
    ratings = [u for u in links(answer["html"], "feedback") if "score=" in u]
    assert len(ratings) == 5
    [unsubscribe] = links(answer["html"], "unsubscribe")
    for url in ratings:
        token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]
        assert signing.loads(token, salt="django_order_mail.links.feedback") == {"t": "nb"}

    visitor = Client(headers={"accept-language": "de"})
    page = visitor.get(path_of(ratings[0]))  # "1 - very unhappy"
    assert page.status_code == 200
    assert page["Content-Language"] == "nb"
    assert TEST_PAGE_NB in page.content.decode()
    for method in (visitor.get, visitor.post):
        assert TEST_PAGE_NB in method(path_of(unsubscribe)).content.decode()
    nothing_recorded_for(order)


def test_send_me_a_test_of_a_real_order_records_nothing_for_the_customer(
    admin_client, admin_user, customer, django_capture_on_commit_callbacks
):
    order, _row = customer
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            reverse(SEND_TEST), editor_data("feedback_request", "en", order_number=order.number)
        ).json()
    assert answer["ok"], answer
    test_row = OutboxEmail.objects.get(is_test=True)
    assert test_row.recipient == admin_user.email
    ratings = [u for u in links(test_row.body_html, "feedback") if "score=" in u]
    [survey] = [u for u in links(test_row.body_html, "feedback") if "score=" not in u]
    [unsubscribe] = links(test_row.body_html, "unsubscribe")
    assert ratings and all(u in test_row.body_text for u in ratings)

    visitor = Client()
    for url in ratings:
        page = visitor.get(path_of(url))
        assert (page.status_code, page["Content-Language"]) == (200, "en")
        assert TEST_PAGE_EN in page.content.decode()
    token = urlsplit(survey).path.rstrip("/").rsplit("/", 1)[1]
    post = visitor.post(
        reverse("django_order_mail:feedback_answer", kwargs={"token": token}), {"score": "1", "comment": "x"}
    )
    assert TEST_PAGE_EN in post.content.decode()
    assert (
        TEST_PAGE_EN in visitor.post(path_of(unsubscribe), {"List-Unsubscribe": "One-Click"}).content.decode()
    )
    nothing_recorded_for(order)


def test_the_unsubscribe_header_of_a_test_email_unsubscribes_nobody(admin_user, no_broker):
    order = OrderFactory()
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    OutboxEmail.objects.filter(pk=row.pk).update(is_test=True, recipient=admin_user.email)
    one_click = Client().post(
        path_of(unsubscribe_url(row.pk)),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert one_click.status_code == 200
    assert TEST_PAGE_EN in one_click.content.decode()
    preferences = Client().post(path_of(preferences_url(row.pk)), {"events": []})
    assert TEST_PAGE_EN in preferences.content.decode()
    assert not Suppression.objects.exists()
    assert not EmailLog.objects.filter(email=row, status__in=["unsubscribed", "preferences"]).exists()


def test_cart_restore_links_of_a_preview_or_test_email_restore_nothing(broker):
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    with preview_links("de"):
        preview_url = restore_url(row.pk)
    OutboxEmail.objects.filter(pk=row.pk).update(is_test=True)
    for url, language in ((preview_url, "de"), (restore_url(row.pk), "en")):
        visitor = Client()
        page = visitor.get(path_of(url))
        assert (page.status_code, page["Content-Language"]) == (200, language)
        assert SESSION_KEY not in visitor.session
        assert "cart_id" not in visitor.session
    assert not EmailLog.objects.filter(email=row, status="restore").exists()


def test_a_preview_token_names_no_row_and_cannot_be_turned_into_one():
    with preview_links("fr"):
        url = feedback_url(123, 1, "csat")
    token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]
    assert signing.loads(token, salt="django_order_mail.links.feedback") == {"t": "fr"}
    assert urlsplit(feedback_url(123, 1, "csat")).path != urlsplit(url).path  # outside: a customer's link


def test_the_sample_orders_links_are_preview_links(client):
    """The editor's preview of the sample order (no real order chosen): its
    rating links open the test-email page, not "this link is not valid"."""
    with translation.override("nb"):
        context = sample_context("feedback_request")
    urls = [r["url"] for r in context["feedback_ratings"]]
    assert urls
    page = client.get(path_of(urls[0]))
    assert page.status_code == 200
    assert TEST_PAGE_NB in page.content.decode()


def test_the_sample_preview_links_keep_the_editors_email_language(admin_client):
    """Staff working in English preview a Norwegian template of the sample
    order: the links' test page is Norwegian, the email's language."""
    answer = admin_client.post(reverse(PREVIEW), editor_data("feedback_request", "nb")).json()
    assert answer["ok"], answer
    rating = next(u for u in links(answer["html"], "feedback") if "score=" in u)
    token = urlsplit(rating).path.rstrip("/").rsplit("/", 1)[1]
    assert signing.loads(token, salt="django_order_mail.links.feedback") == {"t": "nb"}
