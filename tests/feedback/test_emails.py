"""The feedback request email: NPS variant, review-request variant for
marketplaces, review links from the hook or the settings."""

from __future__ import annotations

import html
import re

import pytest

from django_order_mail.feedback.compliance import check_text
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

AMAZON_REVIEW = "https://www.amazon.de/review/create-review?asin={sku}"


def render(order, email_id=9, **overrides):
    context = build_context(order, "feedback_request", email_id=email_id)
    context.update(overrides)
    return render_event("feedback_request", context, channel=order.sales_channel), context


def hrefs(rendered_html: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', rendered_html)]


def with_skus(order, monkeypatch):
    items = [
        {"name": "Wool socks", "sku": "B0SOCKS", "quantity": 1, "unit_price": 10, "total": 10},
        {"name": "Mug", "sku": "B0MUG", "quantity": 1, "unit_price": 5, "total": 5},
    ]
    monkeypatch.setattr(type(order), "get_mail_line_items", lambda self: items)


# -- NPS ---------------------------------------------------------------------------------------------------


def test_nps_row_has_eleven_links_with_end_labels(db, mail_settings):
    mail_settings(FEEDBACK_SCALE="nps")
    rendered, context = render(OrderFactory())
    assert [r["score"] for r in context["feedback_ratings"]] == list(range(11))
    links = [h for h in hrefs(rendered.html) if "nps=" in h]
    assert len(links) == 11 and links[0].endswith("?nps=0") and links[-1].endswith("?nps=10")
    assert "How likely are you to recommend Test Shop to a friend or colleague?" in rendered.text
    assert re.search(r"^0 – Not at all likely: \S+nps=0$", rendered.text, re.M)
    assert re.search(r"^10 – Extremely likely: \S+nps=10$", rendered.text, re.M)
    assert re.search(r"^5: \S+nps=5$", rendered.text, re.M)
    assert "0 = Not at all likely" in html.unescape(rendered.html)


def test_csat_is_the_default(db):
    _rendered, context = render(OrderFactory())
    assert context["feedback_scale"] == "csat"
    assert [r["score"] for r in context["feedback_ratings"]] == [1, 2, 3, 4, 5]


# -- review requests on marketplaces -----------------------------------------------------------------------


def test_amazon_review_request_links_only_to_review_pages(db, monkeypatch, mail_settings):
    mail_settings(CHANNELS={"amazon_fba": {"review_url": AMAZON_REVIEW}})
    order = OrderFactory(sales_channel="amazon_fba")
    with_skus(order, monkeypatch)
    rendered, context = render(order)
    assert context["review_request"] and context["marketplace"]
    assert context["feedback_ratings"] == [] and context["feedback_url"] == ""
    links = hrefs(rendered.html)
    assert links == [
        "https://www.amazon.de/review/create-review?asin=B0SOCKS",
        "https://www.amazon.de/review/create-review?asin=B0MUG",
    ]
    assert "score=" not in rendered.text and "shop.example" not in rendered.text
    assert "mailto:" not in rendered.html and "help@shop.example" not in rendered.text
    assert "Review Wool socks: https://www.amazon.de/review/create-review?asin=B0SOCKS" in rendered.text
    assert "honest review" in rendered.text
    assert "placed an order with us on Amazon." in rendered.html
    assert check_text(rendered.text + rendered.html + rendered.subject) == []


def test_marketplace_mail_has_no_unsubscribe_link_to_the_shop(db, monkeypatch, mail_settings):
    mail_settings(CHANNELS={"amazon_fbm": {"review_url": AMAZON_REVIEW}})
    order = OrderFactory(sales_channel="amazon_fbm")
    with_skus(order, monkeypatch)
    rendered, _context = render(order, unsubscribe_url="https://shop.example/mail/unsubscribe/x/")
    assert "unsubscribe" not in rendered.text.lower()
    assert all("shop.example" not in h for h in hrefs(rendered.html))


def test_order_wide_review_page_collapses_into_one_button(db, mail_settings):
    mail_settings(CHANNELS={"amazon_fba": {"review_url": "https://sellercentral.example/feedback"}})
    rendered, context = render(OrderFactory(sales_channel="amazon_fba"))
    assert context["review_links"] == [
        {"name": "", "url": "https://sellercentral.example/feedback", "image_url": ""}
    ]
    assert "Write a review: https://sellercentral.example/feedback" in rendered.text


def test_the_order_hook_wins_and_missing_placeholders_drop_the_link(db, monkeypatch, mail_settings):
    mail_settings(CHANNELS={"amazon_fba": {"review_url": AMAZON_REVIEW}})
    order = OrderFactory(sales_channel="amazon_fba")
    monkeypatch.setattr(
        type(order),
        "get_mail_review_url",
        lambda self, item: "https://www.amazon.de/review/hook" if item["name"] == "Mug" else "",
        raising=False,
    )
    _rendered, context = render(order)  # the default items carry no sku
    assert [link["url"] for link in context["review_links"]] == ["https://www.amazon.de/review/hook"]


def test_review_request_without_links_names_the_marketplace(db):
    rendered, context = render(OrderFactory(sales_channel="amazon_fba"))
    assert context["review_links"] == []
    assert "You can write a review from your orders on Amazon." in rendered.text
    assert hrefs(rendered.html) == []


def test_shop_review_page_is_never_used_in_marketplace_mail(db, mail_settings):
    mail_settings(FEEDBACK_REVIEW_URL="https://shop.example/review/{name}/")
    _rendered, web = render(OrderFactory())
    _rendered, amazon = render(OrderFactory(sales_channel="amazon_fba"))
    assert web["review_links"] and amazon["review_links"] == []


def test_aliexpress_keeps_the_survey_but_uses_the_marketplace_layout(db):
    rendered, context = render(OrderFactory(sales_channel="aliexpress"))
    assert context["marketplace"] and not context["review_request"]
    assert len(context["feedback_ratings"]) == 5
    assert "mailto:" not in rendered.html
    assert "You receive this message because you placed an order with us on AliExpress." in rendered.html


def test_web_channel_can_switch_to_a_review_request(db, mail_settings):
    mail_settings(
        CHANNELS={"web": {"feedback": "review"}}, FEEDBACK_REVIEW_URL="https://shop.example/p/{name}/review"
    )
    rendered, context = render(OrderFactory())
    assert context["review_request"] and not context["marketplace"]
    assert "https://shop.example/p/Mug/review" in hrefs(rendered.html)
    assert "help@shop.example" in rendered.text  # own channel: the normal layout


def test_review_request_subject_and_wording_are_honest(db, mail_settings):
    mail_settings(CHANNELS={"amazon_fba": {"review_url": "https://amazon.example/r"}})
    order = OrderFactory(sales_channel="amazon_fba")
    rendered, _context = render(order)
    assert rendered.subject == f"Your review of order {order.number}"
    for word in ("positive", "5 stars", "five star", "discount", "coupon", "gift", "free ", "% off"):
        assert word not in rendered.text.lower()


@pytest.mark.parametrize(
    ("channel", "order_mail"),
    [
        ("web", {"FEEDBACK_SCALE": "nps"}),
        ("amazon_fba", {}),
        ("amazon_fbm", {"CHANNELS": {"amazon_fbm": {"review_url": AMAZON_REVIEW}}}),
        ("aliexpress", {"FEEDBACK_SCALE": "nps"}),
    ],
)
def test_every_variant_is_clean_small_and_mobile_ready(db, mail_settings, channel, order_mail):
    mail_settings(**order_mail)
    rendered, _context = render(OrderFactory(sales_channel=channel, customer_name="<b>Tina</b>"))
    assert rendered.subject and "\n" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part and "None" not in part
    assert "@media only screen and (max-width:620px)" in rendered.html
    assert len(rendered.html.encode()) < 102 * 1024
    assert "<b>Tina</b>" not in rendered.html and "Hi <b>Tina</b>," in rendered.text
