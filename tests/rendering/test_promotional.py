"""The promotional share of an email (rendering.promotional): what it
measures, the limit the sender keeps by trimming the recommendations and
the referral block, and what the promotional slots may hold whoever fills
them (http(s) links only, names as escaped text)."""

from __future__ import annotations

import html
import re

import pytest
from django.db import transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, Status
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.promotional import (
    IMAGE_WEIGHT,
    clean_product,
    clean_referral,
    promotional_share,
    safe_url,
    share_warning,
)
from django_order_mail.rendering.render import render_event

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"


def products(count: int, *, images: bool = True) -> list[dict]:
    return [
        {
            "name": f"Product number {n}",
            "url": f"{SHOP}/p/{n}/",
            "image_url": f"{SHOP}/img/{n}.png" if images else "",
        }
        for n in range(1, count + 1)
    ]


def promoted(html_part: str) -> list[str]:
    """The product names of the HTML part's product block, in order."""
    block = re.search(r'<div data-promotional="recommendations">(.*?)</div>', html_part, re.S)
    return re.findall(r"Product number \d+", block.group(1)) if block else []


# -- the share -------------------------------------------------------------------


def test_the_share_counts_visible_text_and_images_inside_marked_elements():
    page = (
        "<html><head><title>Long title " + "x" * 500 + "</title><style>p{}</style></head><body>"
        '<span class="preheader" style="display:none">hidden preview text</span>'
        "<p>Order   1001 is confirmed.</p>"  # 26 characters: runs of spaces count once
        '<div data-promotional="x"><p>Buy more</p><img src="a.png"></div>'
        "</body></html>"
    )
    promo = len("Buy more") + IMAGE_WEIGHT
    assert promotional_share(page) == pytest.approx(
        promo / (len("Order 1001 is confirmed.") + promo), abs=0.01
    )


def test_nothing_marked_is_no_promotion_and_empty_html_is_zero():
    assert promotional_share("<p>Your parcel is on its way</p>") == 0.0
    assert promotional_share("") == 0.0
    assert promotional_share('<div data-promotional="a"><p>only promotion</p></div>') == 1.0


def test_html_without_the_marker_is_not_parsed_and_the_marker_is_found_in_any_case(monkeypatch):
    """Most emails carry no promotional block: their share is 0.0 without
    parsing the HTML. Attribute names are case-insensitive, so an upper-case
    marker still counts."""
    from django_order_mail.rendering import promotional

    original = promotional._Measure
    parsed = []
    monkeypatch.setattr(promotional, "_Measure", lambda: parsed.append(1) or original())
    assert promotional_share("<p>Your parcel is on its way</p>" * 100) == 0.0
    assert parsed == []
    assert promotional_share('<DIV DATA-PROMOTIONAL="a"><p>only promotion</p></DIV>') == 1.0
    assert parsed == [1]


def test_nested_and_unclosed_markup_is_measured_sensibly():
    page = "<div data-promotional><p>Promo <b>bold <i>deep</i></b></p></div><p>Order text here</p><br>"
    assert 0.4 < promotional_share(page) < 0.6


def test_the_warning_names_share_and_limit_only_above_it(mail_settings):
    assert share_warning(0.15) == ""
    text = share_warning(0.31)
    assert "31.0 %" in text and "20.0 %" in text
    mail_settings(PROMOTIONAL_SHARE_MAX=0.4)
    assert share_warning(0.31) == ""


# -- the slots are cleaned, whoever fills them -----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "/relative/path/",
        "//evil.example/",
        "https://shop.example/a b",
        "https://shop.example/\nX-Injected: 1",
        "ftp://shop.example/file",
        "",
        None,
    ],
)
def test_only_absolute_http_urls_are_kept(url):
    assert safe_url(url) == ""
    assert clean_product({"name": "Mug", "url": url}) is None
    assert clean_referral({"url": url}) is None


def test_a_product_keeps_a_one_line_name_and_drops_a_bad_image():
    item = clean_product(
        {
            "name": "<b>Mug</b>\n\nVisit http://evil.example\x00",
            "url": f"{SHOP}/mug",
            "image_url": "javascript:x",
        }
    )
    assert item["name"] == "<b>Mug</b> Visit http://evil.example"  # text: escaped where it is shown
    assert item["url"] == f"{SHOP}/mug" and item["image_url"] == ""
    assert clean_product({"name": "x" * 500, "url": f"{SHOP}/x"})["name"].endswith("…")
    assert clean_product({"name": "", "url": f"{SHOP}/x"}) is None
    assert clean_product("not a dict") is None


def test_a_hostile_receiver_cannot_put_script_or_javascript_links_into_an_email(order, listen_context):
    listen_context(
        lambda context, **kw: context.update(
            recommended_products=[
                {"name": "<script>alert(1)</script>Socks", "url": f"{SHOP}/socks"},
                {"name": "Click me", "url": "javascript:alert(document.cookie)"},
                {"name": '"><img src=x onerror=alert(1)>', "url": f"{SHOP}/mug", "image_url": "javascript:x"},
            ],
            referral={"url": "javascript:alert(2)", "text": "Invite"},
        )
    )
    context = build_context(order, MailEvent.SHIPPING_CONFIRMATION, email_id=1)
    rendered = render_event(MailEvent.SHIPPING_CONFIRMATION, context, language="en")
    assert "javascript:" not in rendered.html.lower() and "javascript:" not in rendered.text.lower()
    assert "<script>alert(1)</script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Socks" in rendered.html
    assert "<img src=x" not in rendered.html and "&lt;img src=x onerror=alert(1)&gt;" in rendered.html
    assert 'data-promotional="referral"' not in rendered.html  # no http(s) link: no block


# -- the sender keeps the share ----------------------------------------------------------


def queued(order, event=MailEvent.ORDER_CONFIRMATION):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event)])
    return row


@pytest.fixture
def listen_context(request):
    from django_order_mail.signals import collect_context

    def connect(receiver):
        uid = f"test-promotional-{id(receiver)}"
        collect_context.connect(lambda **kw: receiver(**kw), dispatch_uid=uid, weak=False)
        request.addfinalizer(lambda: collect_context.disconnect(dispatch_uid=uid))

    return connect


def test_a_typical_block_of_three_products_stays_under_the_limit(order, broker, esp, listen_context):
    listen_context(lambda context, **kw: context.update(recommended_products=products(3)))
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    page = message.alternatives[0][0]
    assert promoted(page) == ["Product number 1", "Product number 2", "Product number 3"]
    assert promotional_share(page) <= 0.2
    assert not EmailLog.objects.filter(email=row, status="trimmed").exists()


def test_the_sender_trims_the_block_rather_than_exceed_the_share(order, broker, esp, listen_context):
    listen_context(lambda context, **kw: context.update(recommended_products=products(12)))
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    page = message.alternatives[0][0]
    shown = promoted(page)
    assert 0 < len(shown) < 12 and shown == [f"Product number {n}" for n in range(1, len(shown) + 1)]
    assert promotional_share(page) <= 0.2
    assert len(re.findall(r"Product number \d+", message.body)) == len(shown)  # the plain part alike
    [log] = EmailLog.objects.filter(email=row, status="trimmed")
    assert f"12 -> {len(shown)} recommended products, referral none" in log.message


def test_products_go_before_the_referral_block(order, broker, esp, listen_context):
    listen_context(
        lambda context, **kw: context.update(
            recommended_products=products(4), referral={"url": f"{SHOP}/refer", "text": "Give 10, get 10."}
        )
    )
    row = queued(order, MailEvent.SHIPPING_CONFIRMATION)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    page = message.alternatives[0][0]
    assert len(promoted(page)) < 4
    assert f"{SHOP}/refer" in page and "Give 10, get 10." in message.body
    assert promotional_share(page) <= 0.2
    assert "referral kept" in EmailLog.objects.get(email=row, status="trimmed").message


def test_a_stricter_limit_drops_the_block_and_the_referral(order, broker, esp, listen_context, mail_settings):
    mail_settings(PROMOTIONAL_SHARE_MAX=0.01)
    listen_context(
        lambda context, **kw: context.update(recommended_products=products(2), referral=f"{SHOP}/refer")
    )
    row = queued(order, MailEvent.SHIPPING_CONFIRMATION)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    page = message.alternatives[0][0]
    assert "data-promotional" not in page and f"{SHOP}/refer" not in message.body
    assert promotional_share(page) == 0.0
    [log] = EmailLog.objects.filter(email=row, status="trimmed")
    assert "2 -> 0 recommended products, referral dropped" in log.message


def test_without_promotion_nothing_is_rendered_twice(order, broker, esp, listen_context, monkeypatch):
    from django_order_mail.rendering import render as render_module

    calls = []
    original = render_module.render_event
    monkeypatch.setattr(render_module, "render_event", lambda *a, **kw: calls.append(1) or original(*a, **kw))
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    assert len(calls) == 1
    assert "data-promotional" not in html.unescape(esp.sent[0].alternatives[0][0])
