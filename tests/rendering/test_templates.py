"""Rendering tests for the packaged email templates (PRODUCT.md §2).

Every order mail event is rendered through the real pipeline
(``build_context`` -> ``render_event`` -> css-inline) and checked for the
content the spec requires, in both the plain-text and the HTML part.
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.formats import date_format

from django_order_mail.events import INTERNAL_EVENTS, MailEvent
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event, render_outbox_email
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


#: Every customer event fired for an order (abandoned_cart is about a cart, not an
#: order; internal staff mail such as low_score_alert is tested in tests/feedback/test_alerts.py).
ORDER_EVENTS = [e for e in MailEvent.values if e != "abandoned_cart" and e not in INTERNAL_EVENTS]
SHIPMENT_EVENTS = [MailEvent.SHIPPING_CONFIRMATION, MailEvent.SHIPPING_UPDATE, MailEvent.OUT_FOR_DELIVERY]
#: Events whose email lists the order's items.
ITEM_EVENTS = [
    MailEvent.ORDER_CONFIRMATION,
    MailEvent.PAYMENT_FAILED,
    MailEvent.ORDER_EDITED,
    MailEvent.SHIPPING_CONFIRMATION,
    MailEvent.SHIPPING_UPDATE,
    MailEvent.CANCELLATION,
]
#: Events that show the order totals.
TOTALS_EVENTS = [
    MailEvent.ORDER_CONFIRMATION,
    MailEvent.PAYMENT_FAILED,
    MailEvent.ORDER_EDITED,
    MailEvent.CANCELLATION,
]

GMAIL_CLIP_BYTES = 102 * 1024
FULL_CARD = "4242424242424242"
SUPPORT_EMAIL = "help@shop.example"
XSS_NAME = "<script>alert(1)</script>"

DELIVER_FROM = date(2025, 3, 3)
DELIVER_TO = date(2025, 3, 5)


def render(order, event, *, shipment=None, extra=None, email_id=1, language="", **context_overrides):
    context = build_context(order, event, shipment=shipment, extra=extra, email_id=email_id)
    context.update(context_overrides)
    return render_event(event, context, language=language)


def visible(rendered_html: str) -> str:
    """The HTML with entities decoded, for 'is this text in the email' checks."""
    return html.unescape(rendered_html)


def hrefs(rendered_html: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', rendered_html)]


def button_hrefs(rendered_html: str) -> list[str]:
    """Targets of the big call-to-action buttons (class="button")."""
    found = []
    for tag in re.findall(r"<a\b[^>]*>", rendered_html):
        if re.search(r'class="[^"]*\bbutton\b', tag):
            found.append(html.unescape(re.search(r'href="([^"]*)"', tag).group(1)))
    return found


def assert_in_both(rendered, *needles):
    for needle in needles:
        assert needle in rendered.text, f"{needle!r} missing from the plain text"
        assert needle in visible(rendered.html), f"{needle!r} missing from the HTML"


def assert_in_neither(rendered, *needles, case_sensitive=True):
    """Neither the plain text nor the HTML's text (tags and their attributes
    left out: a star link's aria-label "5 stars" names the control, it does
    not ask for five stars)."""
    text, page = rendered.text, re.sub(r"<[^>]*>", " ", visible(rendered.html))
    if not case_sensitive:
        text, page = text.lower(), page.lower()
    for needle in needles:
        n = needle if case_sensitive else needle.lower()
        assert n not in text, f"{needle!r} unexpectedly in the plain text"
        assert n not in page, f"{needle!r} unexpectedly in the HTML"


def en_date(value: date) -> str:
    with translation.override("en"):
        return date_format(value, "DATE_FORMAT")


@pytest.fixture
def order(db):
    return OrderFactory(state="shipped")


@pytest.fixture
def shipment(order):
    return order.add_shipment(
        "ups",
        "1Z999",
        estimated_delivery_from=DELIVER_FROM,
        estimated_delivery_to=DELIVER_TO,
        delivery_instructions="Signature required, bring photo ID",
    )


@pytest.fixture
def branding(settings):
    """Full branding, including the returns and warranty pages."""
    settings.ORDER_MAIL = {
        **settings.ORDER_MAIL,
        "BRANDING": {
            **settings.ORDER_MAIL["BRANDING"],
            "returns_url": "https://shop.example/returns",
            "warranty_url": "https://shop.example/warranty",
        },
    }


def render_any(order, shipment, event, **kwargs):
    kwargs.setdefault(
        "extra", {"reason": "Requested by customer", "amount": "10.00", "changes": ["Size M → L"]}
    )
    return render(order, event, shipment=shipment if event in SHIPMENT_EVENTS else None, **kwargs)


# -- every event ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_every_event_has_order_number_greeting_and_support(order, shipment, event):
    rendered = render_any(order, shipment, event)
    assert order.number in rendered.subject
    assert_in_both(
        rendered, order.number, "Hi Tina,", SUPPORT_EMAIL, "+47 22 00 00 00", "https://shop.example/help"
    )
    assert f'href="mailto:{SUPPORT_EMAIL}"' in rendered.html
    # The packaged template, not the one-line stub it replaced.
    assert "<h1" in rendered.html
    assert len(rendered.text.splitlines()) > 8


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_every_event_is_clean_single_line_subject_and_no_template_leftovers(order, shipment, event):
    rendered = render_any(order, shipment, event)
    assert rendered.subject
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part
        assert "None" not in part
    assert rendered.text.strip()


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_every_event_html_is_inlined_responsive_and_small(order, shipment, event):
    rendered = render_any(order, shipment, event)
    assert 'style="' in rendered.html
    # Rules were moved into style="" attributes...
    assert re.search(r'<p[^>]*style="[^"]*margin: 0 0 14px', rendered.html)
    # ...and the mobile @media rule kept in a <style> block.
    assert "@media only screen and (max-width:620px)" in rendered.html
    assert '<meta name="viewport"' in rendered.html
    assert len(rendered.html.encode()) < GMAIL_CLIP_BYTES
    # A preheader (inbox preview) is set.
    preheader = re.search(r'<span class="preheader"[^>]*>(.*?)</span>', rendered.html, re.S)
    assert preheader and preheader.group(1).strip()


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_every_event_shows_only_last_four_card_digits(order, shipment, event):
    rendered = render_any(order, shipment, event)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert FULL_CARD not in part
        assert "424242424242" not in part


@pytest.mark.parametrize("event", ITEM_EVENTS)
def test_item_names_in_both_parts(order, shipment, event):
    rendered = render_any(order, shipment, event)
    assert_in_both(rendered, "Wool socks", "Mug")


@pytest.mark.parametrize("event", TOTALS_EVENTS)
def test_totals_in_both_parts(order, shipment, event):
    rendered = render_any(order, shipment, event)
    # 2 × 12.50 + 9.90 = 34.90; shipping 4.90; tax 3.49; total 43.29
    assert_in_both(rendered, "$34.90", "$4.90", "$3.49", "$43.29")


# -- escaping ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_customer_controlled_text_is_escaped_in_html_only(db, event):
    order = OrderFactory(
        state="shipped",
        customer_name=XSS_NAME,
        lines=[("<b>Bold</b> mug & co", 1, "5.00"), ("O'Brien's tea", 2, "3.00")],
    )
    shipment = order.add_shipment("ups", "1Z999")
    rendered = render(
        order,
        event,
        shipment=shipment if event in SHIPMENT_EVENTS else None,
        extra={"reason": "<img src=x onerror=alert(2)> out of stock", "changes": ["<i>Size</i> M → L"]},
    )
    for raw in (XSS_NAME, "<b>Bold</b>", "<img src=x", "<i>Size</i>"):
        assert raw not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&amp;lt;" not in rendered.html  # not escaped twice
    # Plain text is not HTML: customer text appears as typed, never entity-encoded.
    assert f"Hi {XSS_NAME}," in rendered.text
    for entity in ("&lt;", "&gt;", "&amp;", "&#x27;", "&#39;", "&quot;"):
        assert entity not in rendered.text
    if event in ITEM_EVENTS:
        assert "<b>Bold</b> mug & co" in rendered.text
        assert "O'Brien's tea" in rendered.text
        assert "&lt;b&gt;Bold&lt;/b&gt; mug &amp; co" in rendered.html


def test_subject_never_contains_a_newline_from_the_customer_name(db):
    order = OrderFactory(customer_name="Tina\nBcc: victim@example.com")
    rendered = render(order, MailEvent.ORDER_CONFIRMATION)
    assert "\n" not in rendered.subject
    assert order.number in rendered.subject


@pytest.mark.parametrize("event", [MailEvent.CANCELLATION, MailEvent.PAYMENT_FAILED, MailEvent.REFUND])
def test_reason_is_shown_escaped(order, event):
    reason = "<b>Item</b> out of stock & discontinued"
    rendered = render(order, event, extra={"reason": reason})
    assert reason in rendered.text
    assert "&lt;b&gt;Item&lt;/b&gt; out of stock &amp; discontinued" in rendered.html
    assert "<b>Item</b>" not in rendered.html


# -- order confirmation -----------------------------------------------------------------------------------


def test_order_confirmation_content(order):
    rendered = render(order, MailEvent.ORDER_CONFIRMATION)
    assert "confirmed" in rendered.subject.lower()
    assert_in_both(
        rendered,
        "2 × $12.50",
        "1 Test Street",
        "0150 Oslo",
        "Visa •••• 4242",
        f"https://shop.example/orders/{order.number}/",
        "tracking",
        "Returns and damaged items",
    )
    assert f"https://shop.example/orders/{order.number}/" in button_hrefs(rendered.html)


def test_order_confirmation_without_addresses_has_no_empty_address_table(order, monkeypatch):
    monkeypatch.setattr(type(order), "get_mail_addresses", lambda self: {})
    rendered = render(order, MailEvent.ORDER_CONFIRMATION)
    assert "Shipping address" not in rendered.html
    assert not re.search(r"<tr>\s*</tr>", rendered.html)


def test_many_items_still_fit_under_gmail_clipping(db):
    lines = [(f"Product number {i} with a rather long descriptive name", 1, "19.99") for i in range(60)]
    order = OrderFactory(lines=lines)
    rendered = render(order, MailEvent.ORDER_CONFIRMATION)
    assert "Product number 59" in rendered.html
    assert len(rendered.html.encode()) < GMAIL_CLIP_BYTES


# -- shipping confirmation --------------------------------------------------------------------------------


def test_shipping_confirmation_content(order, shipment):
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=shipment)
    tracking_url = "https://www.ups.com/track?tracknum=1Z999"
    assert_in_both(
        rendered,
        "UPS",
        "1Z999",
        tracking_url,
        f"Expected delivery between {en_date(DELIVER_FROM)} and {en_date(DELIVER_TO)}",
        "In this parcel",
        "2 × Wool socks",
        "1 × Mug",
    )
    # One-tap tracking: a button straight to the carrier's page.
    assert button_hrefs(rendered.html) == [tracking_url]
    assert "follows by email" not in rendered.text
    assert "rest follows" not in rendered.text


def test_shipping_confirmation_lists_only_the_items_in_this_parcel(order):
    parcel = order.add_shipment("ups", "1Z1", items=[{"name": "Wool socks", "quantity": 1}])
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    assert_in_both(rendered, "1 × Wool socks")
    assert_in_neither(rendered, "Mug")


def test_partial_shipment_says_the_rest_follows(db):
    order = OrderFactory(state="partially_shipped")
    parcel = order.add_shipment("dhl", "JD014600006281230704", items=[{"name": "Mug", "quantity": 1}])
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    assert "part of your order" in rendered.subject.lower()
    assert_in_both(rendered, "rest", "separate parcel", "DHL Express", "JD014600006281230704", "1 × Mug")
    assert_in_neither(rendered, "Wool socks")


def test_partial_shipment_flow_through_the_outbox(db):
    """The real lifecycle: ship part of an order, render the outbox row."""
    order = OrderFactory(state="awaiting_shipment")
    parcel = order.add_shipment("ups", "1Z111", items=[{"name": "Mug", "quantity": 1}])
    order.ship_partially(parcel)
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    rendered = render_outbox_email(row, order)
    assert_in_both(rendered, "1Z111", "separate parcel", "1 × Mug")

    rest = order.add_shipment("ups", "1Z222", items=[{"name": "Wool socks", "quantity": 2}])
    order.ship(rest)
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.SHIPPING_CONFIRMATION, shipment=rest)
    rendered = render_outbox_email(row, order)
    assert_in_both(rendered, "1Z222", "2 × Wool socks")
    assert_in_neither(rendered, "separate parcel", "1Z111")


def test_partial_shipment_email_rendered_late_still_says_the_rest_follows(db):
    order = OrderFactory(state="awaiting_shipment")
    first = order.add_shipment("ups", "1Z111", items=[{"name": "Mug", "quantity": 1}])
    order.ship_partially(first)
    order.save()
    order.ship(order.add_shipment("ups", "1Z222"))
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.SHIPPING_CONFIRMATION, shipment=first)
    assert_in_both(render_outbox_email(row, order), "separate parcel")


def test_partial_flag_in_extra_marks_a_partial_shipment_whatever_the_state(order):
    parcel = order.add_shipment("ups", "1Z111", items=[{"name": "Mug", "quantity": 1}])
    rendered = render(
        order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel, extra={"partial_shipment": True}
    )
    assert order.state == "shipped"
    assert_in_both(rendered, "separate parcel")


def test_shipping_confirmation_without_tracking_number(order):
    parcel = order.add_shipment("ups", "")
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    assert_in_both(rendered, "tracking number follows by email")
    assert button_hrefs(rendered.html) == []
    assert "ups.com" not in rendered.html


def test_tracking_url_with_query_string_is_a_valid_link(order):
    parcel = order.add_shipment("dhl", "JD0001")
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    url = "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=JD0001"
    assert url in rendered.text
    assert url in button_hrefs(rendered.html)
    assert "submit=1&amp;tracking-id=JD0001" in rendered.html


def test_shipping_confirmation_single_day_and_fallback_to_order_dates(order, monkeypatch):
    one_day = order.add_shipment(
        "ups", "1Z1", estimated_delivery_from=DELIVER_FROM, estimated_delivery_to=DELIVER_FROM
    )
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=one_day)
    assert_in_both(rendered, f"Expected delivery on {en_date(DELIVER_FROM)}")

    monkeypatch.setattr(
        type(order),
        "get_mail_expected_dates",
        lambda self: {"deliver_from": DELIVER_FROM, "deliver_to": DELIVER_TO},
    )
    undated = order.add_shipment("ups", "1Z2")
    rendered = render(order, MailEvent.SHIPPING_CONFIRMATION, shipment=undated)
    assert_in_both(rendered, f"between {en_date(DELIVER_FROM)} and {en_date(DELIVER_TO)}")


# -- shipping update --------------------------------------------------------------------------------------


def test_shipping_update_shows_the_new_carrier_and_tracking_number(order, shipment):
    shipment.carrier = "dhl"
    shipment.tracking_number = "JD999"
    shipment.save()
    rendered = render(order, MailEvent.SHIPPING_UPDATE, shipment=shipment)
    new_url = "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id=JD999"
    assert_in_both(rendered, "DHL Express", "JD999", new_url)
    assert button_hrefs(rendered.html) == [new_url]
    assert_in_neither(rendered, "1Z999", "ups.com")


# -- out for delivery -------------------------------------------------------------------------------------


def test_out_for_delivery_content(order, shipment):
    rendered = render(order, MailEvent.OUT_FOR_DELIVERY, shipment=shipment)
    assert "out for delivery" in rendered.subject.lower()
    assert_in_both(
        rendered,
        "today or tomorrow",
        "1Z999",
        "https://www.ups.com/track?tracknum=1Z999",
        "Signature required, bring photo ID",
        "If you miss the delivery",
        "pickup point",
    )
    assert button_hrefs(rendered.html) == ["https://www.ups.com/track?tracknum=1Z999"]


def test_out_for_delivery_without_shipment_uses_the_first_one(order):
    order.add_shipment("gls", "GLS-FIRST")
    order.add_shipment("gls", "GLS-SECOND")
    rendered = render(order, MailEvent.OUT_FOR_DELIVERY, shipment=None)
    assert_in_both(rendered, "GLS-FIRST", "https://gls-group.com/track/GLS-FIRST")
    assert_in_neither(rendered, "GLS-SECOND")


def test_out_for_delivery_without_any_shipment_still_renders(order):
    rendered = render(order, MailEvent.OUT_FOR_DELIVERY, shipment=None)
    assert_in_both(rendered, order.number, "today or tomorrow")
    assert button_hrefs(rendered.html) == []


# -- delivered --------------------------------------------------------------------------------------------


def test_delivered_content(order, branding):
    rendered = render(order, MailEvent.DELIVERED)
    assert "delivered" in rendered.subject.lower()
    assert_in_both(
        rendered,
        "Thank you",
        "Did everything arrive intact?",
        "https://shop.example/returns",
        "https://shop.example/warranty",
        "honest feedback",
        SUPPORT_EMAIL,
    )
    assert {"https://shop.example/returns", "https://shop.example/warranty"} <= set(hrefs(rendered.html))
    assert_in_neither(rendered, "discount", "coupon", "voucher", "gift", case_sensitive=False)


def test_delivered_without_returns_or_warranty_pages(order):
    rendered = render(order, MailEvent.DELIVERED)
    assert_in_neither(rendered, "Warranty:", "Returns:")
    assert "Warranty</a>" not in rendered.html


# -- feedback request -------------------------------------------------------------------------------------


def test_feedback_request_rating_row(order):
    # One context for both sides: the signed links carry a timestamp.
    context = build_context(order, "feedback_request", email_id=42)
    rendered = render_event("feedback_request", context)
    ratings = context["feedback_ratings"]
    assert [r["score"] for r in ratings] == [1, 2, 3, 4, 5]
    links = hrefs(rendered.html)
    for rating in ratings:
        assert rating["url"] in links, f"score {rating['score']} is not a link in the HTML"
        assert rating["url"] in rendered.text, f"score {rating['score']} is missing from the plain text"
    assert context["feedback_url"] in links
    assert context["feedback_url"] in rendered.text
    # Each score carries its meaning as text (screen readers, plain text).
    assert_in_both(rendered, "Very unhappy", "Unhappy", "Neutral", "Happy", "Very happy")
    assert re.search(r"1 – Very unhappy: \S+score=1", rendered.text)
    assert re.search(r"5 – Very happy: \S+score=5", rendered.text)
    # Large tap targets: the links are blocks with padding, not bare numbers.
    rating_tags = [t for t in re.findall(r"<a\b[^>]*>", rendered.html) if "score=" in t]
    assert len(rating_tags) == 5
    for tag in rating_tags:
        assert "display: block" in tag and "padding: 10px 0" in tag


def test_feedback_request_asks_for_honest_feedback_without_incentive(order):
    rendered = render(order, "feedback_request", email_id=7)
    assert_in_both(rendered, "honestly")
    assert_in_neither(
        rendered,
        "positive",
        "5 stars",
        "five stars",
        "discount",
        "coupon",
        "voucher",
        "gift",
        "% off",
        "free ",
        case_sensitive=False,
    )


def test_feedback_request_without_email_id_falls_back_to_a_reply(order):
    rendered = render(order, "feedback_request", email_id=None)
    assert "score=" not in rendered.html
    assert_in_both(rendered, "reply to this email")


def test_feedback_request_shows_an_unsubscribe_link_when_given(order):
    rendered = render(order, "feedback_request", unsubscribe_url="https://shop.example/mail/unsubscribe/abc/")
    assert_in_both(rendered, "https://shop.example/mail/unsubscribe/abc/")
    assert "https://shop.example/mail/unsubscribe/abc/" in hrefs(rendered.html)


# -- payment failed ---------------------------------------------------------------------------------------


def test_payment_failed_content(order):
    rendered = render(
        order,
        MailEvent.PAYMENT_FAILED,
        extra={"reason": "Card declined"},
        retry_payment_url="https://shop.example/pay/abc?x=1&y=2",
    )
    assert "did not go through" in rendered.subject
    assert_in_both(
        rendered,
        "Card declined",
        "keeping your order",
        "Visa •••• 4242",
        "https://shop.example/pay/abc?x=1&y=2",
    )
    assert button_hrefs(rendered.html) == ["https://shop.example/pay/abc?x=1&y=2"]


def test_payment_failed_without_retry_url_asks_to_contact_us(order):
    rendered = render(order, MailEvent.PAYMENT_FAILED)
    assert_in_both(rendered, "reply to this email or contact us")
    assert button_hrefs(rendered.html) == []
    assert_in_neither(rendered, "Reason:")


def test_payment_failed_keeps_only_last_four_of_a_spaced_card_number(db):
    order = OrderFactory(card_brand="Mastercard", card_number="5555 4444 3333 1111")
    rendered = render(order, MailEvent.PAYMENT_FAILED)
    assert_in_both(rendered, "Mastercard •••• 1111")
    assert_in_neither(rendered, "5555", "4444", "3333 ")


# -- order edited -----------------------------------------------------------------------------------------


def test_order_edited_content(order):
    changes = ["Wool socks: size M → L", "Mug removed"]
    rendered = render(order, MailEvent.ORDER_EDITED, extra={"changes": changes})
    assert_in_both(rendered, *changes, "Your updated order", "$43.29", "did not expect this change")
    assert "<li>Wool socks: size M → L</li>" in rendered.html
    assert "- Mug removed" in rendered.text


# -- order on hold ----------------------------------------------------------------------------------------


def test_order_on_hold_is_neutral_and_hides_the_internal_reason(order):
    rendered = render(order, MailEvent.ORDER_ON_HOLD, extra={"reason": "Fraud score 97 (velocity rule)"})
    assert_in_both(rendered, "routine verification", "24 hours", "cancel it and refund the full amount")
    assert_in_neither(rendered, "Fraud score", "velocity", "fraud", "suspicious", case_sensitive=False)
    assert "fraud" not in rendered.subject.lower()


# -- cancellation -----------------------------------------------------------------------------------------


def test_cancellation_content(order):
    rendered = render(order, MailEvent.CANCELLATION, extra={"reason": "Out of stock"})
    assert "cancelled" in rendered.subject.lower()
    assert_in_both(
        rendered,
        "has been cancelled",
        "Reason",
        "Out of stock",
        "5–10 business days",
        "depending on your bank",
        "nothing was charged",
        "Wool socks",
        "$43.29",
    )


def test_cancellation_without_reason_has_no_reason_line(order):
    rendered = render(order, MailEvent.CANCELLATION, extra={})
    assert_in_neither(rendered, "Reason:")


def test_cancellation_from_the_real_transition(db):
    order = OrderFactory(state="awaiting_shipment")
    order.cancel(reason="<b>Customer</b> request")
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.CANCELLATION)
    rendered = render_outbox_email(row, order)
    assert "<b>Customer</b> request" in rendered.text
    assert "&lt;b&gt;Customer&lt;/b&gt; request" in rendered.html


# -- refund -----------------------------------------------------------------------------------------------


def test_refund_of_an_amount(order):
    rendered = render(order, MailEvent.REFUND, extra={"amount": "10.00", "reason": "Damaged mug"})
    assert "$10.00" in rendered.subject
    assert_in_both(rendered, "$10.00", "Visa •••• 4242", "5–10 business days", "Damaged mug")


def test_full_refund_without_amount(order):
    rendered = render(order, MailEvent.REFUND, extra={})
    assert_in_both(rendered, "full refund")
    assert_in_neither(rendered, "Reason:")


def test_refund_amount_in_other_currency_and_unknown_payment(db, monkeypatch):
    order = OrderFactory(currency="NOK")
    monkeypatch.setattr(type(order), "get_mail_payment", lambda self: {})
    rendered = render(order, MailEvent.REFUND, extra={"amount": "249.00"})
    # CLDR: an English reader sees the ISO code (a Norwegian one "249,00 kr", test_i18n_format).
    assert_in_both(rendered, "NOK\u00a0249.00", "your original payment method")
    assert_in_neither(rendered, "••••")


def test_refund_from_the_real_transition(db):
    order = OrderFactory(state="awaiting_shipment")
    order.refund(amount=Decimal("12.50"), reason="Late delivery")
    order.save()
    row = OutboxEmail.objects.get(event=MailEvent.REFUND)
    rendered = render_outbox_email(row, order)
    assert_in_both(rendered, "$12.50", "Late delivery")


# -- branding and language --------------------------------------------------------------------------------


def test_support_box_falls_back_to_reply_when_no_contact_is_configured(order, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "BRANDING": {"name": "Bare Shop"}}
    rendered = render(order, MailEvent.ORDER_CONFIRMATION)
    assert_in_both(rendered, "Just reply to this email.", "Bare Shop")
    assert "mailto:" not in rendered.html


@pytest.mark.parametrize("event", ORDER_EVENTS)
def test_unknown_language_does_not_crash(order, shipment, event):
    with translation.override("xx"):
        rendered = render_any(order, shipment, event, language="xx")
    assert rendered.language == "en"
    assert order.number in rendered.subject
    assert '<html lang="en"' in rendered.html


def test_other_supported_language_sets_html_lang(order):
    rendered = render(order, MailEvent.ORDER_CONFIRMATION, language="nb")
    assert rendered.language == "nb"
    assert '<html lang="nb"' in rendered.html
    assert order.number in rendered.text
