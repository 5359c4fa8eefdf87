"""Fixtures of the product-review tests: an order with products, its
feedback request, the star links of the rendered email, and photos."""

from __future__ import annotations

import io
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.reviews.context import product_review_context
from tests.factories import OrderFactory
from tests.testapp.models import Order

#: The test order's lines: two products with a sku, one that has only a name.
LINES = [
    {"name": "Wool socks", "sku": "SOCK-1", "quantity": 2, "unit_price": Decimal("12.50")},
    {"name": "Wool socks (size L)", "sku": "SOCK-1", "quantity": 1, "unit_price": Decimal("12.50")},  # again
    {"name": "Mug", "product_id": "p-42", "sku": "MUG-9", "image_url": "https://img.example/mug.png"},
    {"name": "Gift card", "quantity": 1, "unit_price": Decimal("20.00")},
]
for _line in LINES:
    _line.setdefault("quantity", 1)
    _line.setdefault("unit_price", Decimal("9.90"))
    _line["total"] = _line["unit_price"] * _line["quantity"]


@pytest.fixture
def items(monkeypatch):
    """The testapp's orders answer ``get_mail_line_items()`` with ``LINES``."""
    lines = [dict(line) for line in LINES]
    monkeypatch.setattr(Order, "get_mail_line_items", lambda self: [dict(i) for i in lines])
    return lines


def request_row(order, event="feedback_request", **kwargs) -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event, **kwargs)])
    return row


@pytest.fixture
def shop_order(db, items):
    return OrderFactory(customer_name="Tina", email="tina@example.com")


@pytest.fixture
def row(shop_order, no_broker):
    return request_row(shop_order)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


def star_url(row, product=0, stars=4) -> str:
    products = product_review_context(row.order, row.pk, channel=row.channel)
    return path_of(products[product]["stars"][stars - 1]["url"])


def page_url(row, product=0) -> str:
    return path_of(product_review_context(row.order, row.pk, channel=row.channel)[product]["url"])


# -- photos -----------------------------------------------------------------------------------------------


def jpeg_with_gps(size=(64, 48), orientation=None) -> bytes:
    """A real JPEG whose EXIF names a camera and a GPS position (Oslo)."""
    from PIL import ExifTags, Image

    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone Maker"
    exif[ExifTags.Base.Model] = "Phone 12"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update(
        {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (59.0, 54.0, 40.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (10.0, 45.0, 10.0),
        }
    )
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 200)).save(out, format="PNG")
    return out.getvalue()
