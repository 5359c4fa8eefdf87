"""The review page behind the star links: one click records, the form
saves, one review per product per order with its history - and the safety
rules of a page anyone holding a link can reach (another order's token, a
tampered, expired or preview token, HEAD, prefetch, repeats)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import signing
from django.urls import reverse

from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.links import make_token, preview_links
from django_order_mail.reviews.context import product_review_context
from django_order_mail.reviews.links import PURPOSE
from django_order_mail.reviews.models import ProductReview, ReviewRevision, ReviewStatus
from django_order_mail.reviews.products import product_digest
from django_order_mail.reviews.recording import moderate
from tests.factories import OrderFactory

from .conftest import page_url, path_of, request_row, star_url, token_of

pytestmark = pytest.mark.django_db


def review_path(token: str) -> str:
    return reverse("django_order_mail:product_review", kwargs={"token": token})


# -- one click --------------------------------------------------------------------------------------------


def test_one_click_records_the_rating_at_once(client, row, shop_order):
    response = client.get(star_url(row, product=1, stars=2))
    assert response.status_code == 200
    review = ProductReview.objects.get()
    assert (review.product_id, review.product_name, review.rating) == ("p-42", "Mug", 2)
    assert (review.status, review.verified_buyer, review.title, review.body) == ("pending", True, "", "")
    assert review.order == shop_order and review.email_id == row.pk
    assert (review.reference, review.channel) == (shop_order.number, "web")
    body = response.content.decode()
    assert "Your rating of 2 stars is saved" in body
    assert "Verified buyer" in body
    assert response["Referrer-Policy"] == "same-origin" and response["X-Robots-Tag"] == "noindex"
    assert [(h.via, h.rating) for h in review.history.all()] == [("click", 2)]


def test_the_same_click_again_writes_nothing(client, row):
    client.get(star_url(row, stars=5))
    first = ProductReview.objects.get()
    client.get(star_url(row, stars=5))
    again = ProductReview.objects.get()
    assert (again.pk, again.updated_at) == (first.pk, first.updated_at)
    assert ReviewRevision.objects.count() == 1


def test_head_and_prefetch_record_nothing(client, row):
    assert client.head(star_url(row, stars=1)).status_code == 405
    response = client.get(star_url(row, stars=1), headers={"Sec-Purpose": "prefetch"})
    assert response.status_code == 200
    assert ProductReview.objects.count() == 0


@pytest.mark.parametrize("stars", ["0", "6", "٣", "²", "4.0", "44", "", "-1"])
def test_only_one_to_five_counts(client, row, stars):
    url = page_url(row) + f"?stars={stars}"
    assert client.get(url).status_code == 200
    assert ProductReview.objects.count() == 0


def test_a_later_click_updates_the_one_review_and_keeps_its_history(client, row):
    client.get(star_url(row, stars=2))
    client.post(page_url(row), {"rating": "2", "title": "Too thin", "body": "Holes after a week"})
    moderate(ProductReview.objects.get(), ReviewStatus.APPROVED)
    client.get(star_url(row, stars=4))
    review = ProductReview.objects.get()
    assert (review.rating, review.title, review.body) == (4, "Too thin", "Holes after a week")
    # A change by the customer is moderated again, whatever the rating.
    assert review.status == ReviewStatus.PENDING
    assert [(h.via, h.rating, h.status) for h in review.history.all()] == [
        ("click", 2, "pending"),
        ("form", 2, "pending"),
        ("moderation", 2, "approved"),
        ("click", 4, "pending"),
    ]


def test_one_review_per_product_per_order(client, row, shop_order, no_broker):
    client.get(star_url(row, product=0, stars=3))
    client.get(star_url(row, product=1, stars=5))
    # The reminder's links name another row of the same order: the same reviews.
    reminder = request_row(shop_order, "review_reminder")
    client.get(star_url(reminder, product=0, stars=4))
    assert sorted(ProductReview.objects.values_list("product_id", "rating")) == [("SOCK-1", 4), ("p-42", 5)]
    # Another order of the same product has its own review.
    other = request_row(OrderFactory(), "feedback_request")
    client.get(star_url(other, product=0, stars=1))
    assert ProductReview.objects.filter(product_id="SOCK-1").count() == 2


# -- the form ---------------------------------------------------------------------------------------------


def test_the_form_saves_and_redirects_to_the_page(client, row):
    response = client.post(
        page_url(row),
        {"rating": "3", "title": "  Fine ", "body": "Warm, a bit scratchy.", "display_name": "Tina H."},
    )
    assert response.status_code == 302 and response["Location"].endswith("?saved=1")
    review = ProductReview.objects.get()
    assert (review.rating, review.title, review.body, review.display_name) == (
        3,
        "Fine",
        "Warm, a bit scratchy.",
        "Tina H.",
    )
    page = client.get(response["Location"]).content.decode()
    assert "Thank you, your review is saved." in page
    assert "waiting for a quick check" in page


def test_invalid_input_saves_nothing_and_keeps_what_was_typed(client, row):
    response = client.post(page_url(row), {"rating": "9", "body": "Kept <b>text</b>"})
    assert response.status_code == 400
    assert ProductReview.objects.count() == 0
    body = response.content.decode()
    assert "Kept &lt;b&gt;text&lt;/b&gt;" in body and "<b>text</b>" not in body


def test_the_rejection_reason_is_shown_to_the_author_escaped(client, row):
    client.get(star_url(row, stars=1))
    moderate(ProductReview.objects.get(), ReviewStatus.REJECTED, reason="Contains a <phone> number")
    body = client.get(page_url(row)).content.decode()
    assert "Your review was not published." in body and "Contains a &lt;phone&gt; number" in body


def test_the_page_is_in_the_language_of_the_email(client, items, no_broker):
    row = request_row(OrderFactory(language="de"))
    response = client.get(star_url(row, stars=4), headers={"Accept-Language": "fr"})
    assert response["Content-Language"] == "de"
    assert "Vielen Dank" in response.content.decode()


# -- attacks ----------------------------------------------------------------------------------------------


def test_a_token_of_another_order_reviews_only_that_order(client, row, items, no_broker):
    theirs = request_row(OrderFactory(email="eve@example.com"))
    client.get(star_url(theirs, product=0, stars=1))
    review = ProductReview.objects.get()
    assert review.object_id == str(theirs.object_id) != str(row.object_id)
    # Whatever the request says, the order comes from the signed row.
    client.post(page_url(theirs) + f"?order={row.object_id}", {"rating": "1", "object_id": row.object_id})
    assert list(ProductReview.objects.values_list("object_id", flat=True)) == [str(theirs.object_id)]


def test_a_tampered_token_gets_the_link_problem_page(client, row):
    token = token_of(page_url(row))
    payload, rest = token.split(":", 1)
    forged = make_token("feedback", {"e": row.pk, "i": 0, "k": "x"})  # another purpose's signature
    for bad in (payload[:-2] + "xx:" + rest, forged, "nonsense", token[:-1]):
        response = client.get(review_path(bad) + "?stars=5")
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert ProductReview.objects.count() == 0


def test_a_token_naming_another_product_index_or_kind_of_email_is_refused(client, row, shop_order, no_broker):
    key = f"django_order_mail.links.{PURPOSE}"
    gone = signing.dumps({"e": row.pk, "i": 0, "k": "deadbeef"}, salt=key)
    confirmation = request_row(shop_order, "order_confirmation")
    wrong_event = signing.dumps({"e": confirmation.pk, "i": 0, "k": product_digest("SOCK-1")}, salt=key)
    for token in (gone, wrong_event, signing.dumps({"e": row.pk}, salt=key)):
        assert client.get(review_path(token) + "?stars=5").status_code == 404
    assert ProductReview.objects.count() == 0


def test_an_expired_link_records_nothing_and_answers_in_the_emails_language(
    client, items, no_broker, settings
):
    row = request_row(OrderFactory(language="nb"))
    url = star_url(row, stars=5)
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "LINK_MAX_AGE_DAYS": 1}
    later = time.time() + 2 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Language"] == "nb"
    assert ProductReview.objects.count() == 0


def test_a_preview_link_records_nothing(client, row, shop_order):
    with preview_links("de"):
        url = path_of(product_review_context(shop_order, row.pk, channel="web")[0]["stars"][4]["url"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Language"] == "de"
    assert client.post(url.split("?")[0], {"rating": "5"}).status_code == 200
    assert ProductReview.objects.count() == 0


def test_a_staff_test_email_records_nothing(client, row):
    OutboxEmail.objects.filter(pk=row.pk).update(is_test=True)
    assert client.get(star_url(row, stars=5)).status_code == 200
    assert ProductReview.objects.count() == 0


def test_a_marketplace_row_is_refused_even_with_a_valid_token(client, row, mail_settings):
    url = star_url(row, stars=5)
    OutboxEmail.objects.filter(pk=row.pk).update(channel="amazon_fba")
    assert client.get(url).status_code == 404
    assert ProductReview.objects.count() == 0


def test_too_many_requests(client, row, mail_settings):
    mail_settings(REVIEWS_RATE_LIMIT={"token": 2, "ip": None, "window": 60})
    assert client.get(page_url(row)).status_code == 200
    assert client.get(page_url(row)).status_code == 200
    response = client.get(star_url(row, stars=5))
    assert response.status_code == 429
    assert ProductReview.objects.count() == 0


def test_the_form_needs_the_csrf_token(row):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(page_url(row), {"rating": "5"}).status_code == 403
    assert ProductReview.objects.count() == 0
