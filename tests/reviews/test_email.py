"""The product stars in the feedback request (the reviews app plugs into the
feedback app's email through collect_context, never by import): five signed,
PII-free links per product, the same for every rating; none on marketplace
channels; preview links name no row."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing

from django_order_mail.rendering.links import PREVIEW, preview_links
from django_order_mail.rendering.render import render_outbox_email
from django_order_mail.rendering.sample import sample_context
from django_order_mail.reviews.context import product_review_context
from django_order_mail.reviews.links import PURPOSE
from django_order_mail.reviews.products import order_products, product_digest
from tests.factories import OrderFactory

from .conftest import request_row, token_of

pytestmark = pytest.mark.django_db


def payload(url: str) -> dict:
    return signing.loads(token_of(url), salt=f"django_order_mail.links.{PURPOSE}")


def star_links_in(html: str) -> list[str]:
    return re.findall(r'<a class="review-star"[^>]*? href="([^"]+)"', html)


def test_products_come_from_the_line_items_with_a_stable_id(shop_order):
    products = order_products(shop_order)
    # product_id, else sku, else name; two lines of one product are one product.
    assert [(p.product_id, p.name) for p in products] == [
        ("SOCK-1", "Wool socks"),
        ("p-42", "Mug"),
        ("Gift card", "Gift card"),
    ]
    assert products[1].image_url == "https://img.example/mug.png"


def test_the_email_lists_each_product_with_five_signed_star_links(row, shop_order):
    rendered = render_outbox_email(row, shop_order)
    links = star_links_in(rendered.html)
    assert len(links) == 3 * 5
    for index, product_links in enumerate([links[i : i + 5] for i in range(0, 15, 5)]):
        assert [parse_qs(urlsplit(u.replace("&amp;", "&")).query)["stars"] for u in product_links] == [
            [str(s)] for s in range(1, 6)
        ]
        data = payload(product_links[0])
        # The row, the product's index and a digest of its id: nothing else.
        assert set(data) == {"e", "i", "k"}
        assert (data["e"], data["i"]) == (row.pk, index)
    assert payload(links[5])["k"] == product_digest("p-42")
    for text in ("tina@example.com", "Tina", shop_order.number, "SOCK-1", "Mug"):
        assert all(text not in token_of(u) for u in links)
    assert "How would you rate the products you bought?" in rendered.html
    # The plain text links each product to its page, where every rating is offered.
    assert "Rate Wool socks: https://shop.example/mail/reviews/" in rendered.text
    assert "?stars=" not in rendered.text


def test_every_rating_looks_and_reads_the_same(row, shop_order):
    html = render_outbox_email(row, shop_order).html
    stars = re.findall(r'<a class="review-star" style="([^"]*)"[^>]*>([^<]*)</a>', html)
    assert len(stars) == 15
    assert len({style for style, _ in stars}) == 1 and {text for _, text in stars} == {"★"}


@pytest.mark.parametrize(
    ("channel", "rules"),
    [
        ("amazon_fba", None),  # the marketplace's review request
        ("aliexpress", None),  # a marketplace survey
        ("etsy", {"marketplace": True, "marketplace_name": "Etsy"}),
        ("partner", {"feedback": "review", "review_url": "https://partner.example/r/{sku}"}),
    ],
)
def test_marketplace_orders_get_no_stars_and_never_our_links(channel, rules, items, mail_settings, no_broker):
    if rules:
        mail_settings(CHANNELS={channel: rules})
    order = OrderFactory(sales_channel=channel)
    row = request_row(order)
    rendered = render_outbox_email(row, order)
    assert star_links_in(rendered.html) == []
    assert "/mail/reviews/" not in rendered.html + rendered.text
    assert product_review_context(order, row.pk, channel=channel) == []


def test_no_outbox_row_no_stars(shop_order):
    assert product_review_context(shop_order, None, channel="web") == []


def test_a_staff_preview_links_to_no_row(shop_order, row):
    with preview_links("nb"):
        products = product_review_context(shop_order, row.pk, channel="web")
    data = payload(products[0]["stars"][0]["url"])
    assert data == {PREVIEW: "nb"}


def test_the_sample_preview_shows_the_stars():
    context = sample_context("feedback_request")
    assert context["product_reviews"] and len(context["product_reviews"][0]["stars"]) == 5
    assert set(payload(context["product_reviews"][0]["url"])) == {PREVIEW}


def test_max_products_per_email(row, shop_order, mail_settings):
    mail_settings(REVIEWS_MAX_PRODUCTS=1)
    assert len(star_links_in(render_outbox_email(row, shop_order).html)) == 5
