"""Content the emails lacked: the order date in the order confirmation (in
the email's language) and the pictures of a partial parcel's items."""

from __future__ import annotations

import datetime as dt

import pytest

from django_order_mail.events import MailEvent
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context

pytestmark = pytest.mark.django_db

PLACED = dt.datetime(2025, 3, 3, 22, 30, tzinfo=dt.timezone.utc)
IMAGES = {"Wool socks": "https://shop.example/img/socks.png", "Mug": "https://shop.example/img/mug.png"}


def with_images(order):
    """The shop's line items with the documented optional keys (sku, image_url, variant)."""
    plain = type(order).get_mail_line_items

    def items():
        return [
            {**item, "sku": item["name"].upper(), "image_url": IMAGES[item["name"]], "variant": "Grey"}
            for item in plain(order)
        ]

    order.get_mail_line_items = items
    return order


@pytest.mark.parametrize(
    ("language", "label", "date"),
    [
        ("en", "Order date", "March 3, 2025"),
        ("de", "Bestelldatum", "3. März 2025"),
        ("nb", "Ordredato", "3. mars 2025"),
    ],
)
def test_the_confirmation_shows_the_order_date_in_the_emails_language(order, language, label, date):
    order.created_at = PLACED
    rendered = render_event(
        MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION), language=language
    )
    assert f"{label}: {date}" in rendered.text
    assert label in rendered.html and date in rendered.html


def test_the_order_date_is_the_shops_local_date(order, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # 22:30 UTC is the next morning in Tokyo
    order.created_at = PLACED
    rendered = render_event(
        MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION), language="en"
    )
    assert "Order date: March 4, 2025" in rendered.text


def test_no_date_no_line_and_the_hook_wins(order):
    rendered = render_event(
        MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION), language="en"
    )
    assert "Order date" not in rendered.text  # the test shop's orders have no created_at
    order.get_mail_order_date = lambda: dt.date(2024, 12, 24)
    rendered = render_event(
        MailEvent.ORDER_CONFIRMATION, build_context(order, MailEvent.ORDER_CONFIRMATION), language="en"
    )
    assert "Order date: December 24, 2024" in rendered.text


def test_the_sample_order_has_a_date_for_the_preview():
    assert sample_context(MailEvent.ORDER_CONFIRMATION)["order_date"] is not None


def test_a_partial_parcels_items_keep_their_pictures(order):
    with_images(order)
    parcel = order.add_shipment("ups", "1Z999", items=[{"name": "Mug", "quantity": 1, "sku": "MUG"}])
    context = build_context(
        order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel, extra={"partial_shipment": True}
    )
    [line] = context["shipment"]["items"]
    assert line["image_url"] == IMAGES["Mug"] and line["quantity"] == 1 and line["variant"] == "Grey"
    rendered = render_event(MailEvent.SHIPPING_CONFIRMATION, context, language="en")
    assert IMAGES["Mug"] in rendered.html
    assert IMAGES["Wool socks"] not in rendered.html  # only this parcel's items
    assert "1 × Mug (Grey)" in rendered.text


def test_parcel_lines_match_by_name_when_they_have_no_sku_and_keep_their_own_quantity(order):
    with_images(order)
    parcel = order.add_shipment(
        "ups", "1Z998", items=[{"name": "Wool socks", "quantity": 1}, {"name": "Gift card"}]
    )
    context = build_context(order, MailEvent.SHIPPING_CONFIRMATION, shipment=parcel)
    socks, card = context["shipment"]["items"]
    assert socks["image_url"] == IMAGES["Wool socks"] and socks["quantity"] == 1  # 1 of the 2 ordered
    assert card["image_url"] == "" and card["name"] == "Gift card"  # not an order line: no picture
    [listed] = [s for s in context["shipments"] if s["id"] == parcel.pk]
    assert listed["items"][0]["image_url"] == IMAGES["Wool socks"]
