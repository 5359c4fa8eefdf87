"""A product's reviews on the shop's pages: the template tag and the JSON
view show approved reviews only, every rating alike, with the average, the
distribution and valid schema.org JSON-LD; customer text is escaped."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from django_order_mail.reviews.display import summarize
from django_order_mail.reviews.models import ReviewStatus
from django_order_mail.reviews.recording import moderate, set_reply

from .test_admin import XSS, review

pytestmark = pytest.mark.django_db


def render_tag(product_id="SOCK-1", name="") -> str:
    template = Template("{% load order_mail_reviews %}{% product_reviews product_id name=name %}")
    return template.render(Context({"product_id": product_id, "name": name}))


def json_ld_of(html: str) -> dict:
    [script] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(script)


@pytest.fixture
def reviews(items, no_broker):
    """Approved 5, 5, 4, 1 (every rating counts), one pending 2, one rejected
    3, and an approved review of another product."""
    made = []
    for rating, status in [
        (5, "approved"),
        (5, "approved"),
        (4, "approved"),
        (1, "approved"),
        (2, "pending"),
        (3, "rejected"),
    ]:
        item = review(rating=rating, title=f"{rating} stars", body=f"Body {rating}")
        if status != "pending":
            moderate(item, status, reason="Off topic")
        made.append(item)
    moderate(review(rating=2, product="p-42", title="Mug review"), ReviewStatus.APPROVED)
    return made


def test_only_approved_reviews_count_every_rating_alike(reviews):
    summary = summarize("SOCK-1")
    assert summary.count == 4 and summary.average == Decimal("3.8")
    assert [(d["stars"], d["count"], d["percent"]) for d in summary.distribution] == [
        (5, 2, 50),
        (4, 1, 25),
        (3, 0, 0),
        (2, 0, 0),
        (1, 1, 25),
    ]


def test_the_template_tag(reviews):
    html = render_tag(name="Wool socks")
    for title in ("5 stars", "4 stars", "1 stars"):
        assert f"<h3>{title}</h3>" in html
    assert "2 stars</h3>" not in html and "3 stars</h3>" not in html and "Mug review" not in html
    assert "3.8" in html and "4 reviews" in html
    assert html.count("✓ Verified buyer") == 4
    data = json_ld_of(html)
    assert data["@type"] == "Product" and data["name"] == "Wool socks" and data["sku"] == "SOCK-1"
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "3.8",
        "reviewCount": 4,
        "bestRating": 5,
        "worstRating": 1,
    }
    assert sorted(r["reviewRating"]["ratingValue"] for r in data["review"]) == [1, 4, 5, 5]
    assert {r["@type"] for r in data["review"]} == {"Review"}


def test_no_reviews_no_markup():
    html = render_tag("nothing-here")
    assert "No reviews yet." in html and "ld+json" not in html


def test_customer_text_and_the_reply_are_escaped_everywhere(client, items, no_broker):
    evil = review(title=XSS, body=f"{XSS}\nsecond line", product="EVIL")
    evil.display_name = "</script><script>alert(1)</script>"
    evil.save()
    moderate(evil, ReviewStatus.APPROVED)
    set_reply(evil, "Thanks! <img src=x onerror=alert(2)>")
    html = render_tag("EVIL")
    assert "<script>alert" not in html and "<b>bold</b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;<br>second line" in html
    # Inside the JSON-LD no "</script>" closes the element early, and it stays valid JSON.
    [script] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "<" not in script and json.loads(script)["review"][0]["author"]["name"].startswith("</script>")
    body = client.get(reverse("django_order_mail:product_reviews_json", args=["EVIL"])).content.decode()
    assert "<" not in body and ">" not in body
    assert json.loads(body)["reviews"][0]["title"] == XSS


def test_the_json_view(client, reviews):
    response = client.get(reverse("django_order_mail:product_reviews_json", args=["SOCK-1"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    data = json.loads(response.content)
    assert (data["count"], data["average"], data["distribution"]) == (
        4,
        "3.8",
        {"5": 2, "4": 1, "3": 0, "2": 0, "1": 1},
    )
    assert sorted(r["rating"] for r in data["reviews"]) == [1, 4, 5, 5]
    assert {r["verified_buyer"] for r in data["reviews"]} == {True}
    assert data["json_ld"]["aggregateRating"]["reviewCount"] == 4
    # Nothing about the order or the customer beyond what the review shows.
    text = response.content.decode()
    assert "@example.com" not in text and "object_id" not in text and "reference" not in text


def test_the_json_view_pages(client, reviews, mail_settings):
    mail_settings(REVIEWS_PER_PAGE=3)
    url = reverse("django_order_mail:product_reviews_json", args=["SOCK-1"])
    first, second = (json.loads(client.get(url, {"page": p}).content) for p in (1, 2))
    assert (len(first["reviews"]), len(second["reviews"]), first["pages"]) == (3, 1, 2)
    assert client.post(url).status_code == 405


def test_product_ids_with_slashes(client, items, no_broker):
    moderate(review(product="shoes/red 42"), ReviewStatus.APPROVED)
    url = reverse("django_order_mail:product_reviews_json", args=["shoes/red 42"])
    assert json.loads(client.get(url).content)["count"] == 1
