"""The sample cart the abandoned-cart reminder is previewed and checked with."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext

from ..rendering.sample import SampleCustomer


class SampleCart(SampleCustomer):
    """An unsaved cart with two items: what the abandoned-cart reminder is
    previewed and validated with (registered as the ``sample`` of its event)."""

    pk = None

    def __init__(self, *, customer_name: str = "Tina Hansen", channel: str = "web"):
        self.customer_name = customer_name
        self.channel = channel

    def __str__(self):
        return gettext("Sample cart")

    def get_cart_items(self):
        return [
            {
                "name": gettext("Merino wool socks"),
                "variant": gettext("Grey, size M"),
                "price": Decimal("12.50"),
                "quantity": 2,
                "image_url": "",
                "url": "",
                "stock_left": 3,
            },
            {
                "name": gettext("Enamel mug"),
                "price": Decimal("9.90"),
                "quantity": 1,
                "image_url": "",
                "url": "",
            },
        ]

    def get_cart_total(self):
        return sum((item["price"] * item["quantity"] for item in self.get_cart_items()), Decimal("0"))

    def get_cart_currency(self):
        return "EUR"

    def get_cart_stock_left(self, item):
        return item.get("stock_left")

    def get_checkout_url(self, request=None):
        return "https://shop.example/checkout/"

    def get_mail_order_number(self):
        return ""

    def get_mail_extra_context(self, event):
        return {}
