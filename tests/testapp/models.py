"""A minimal shop used by the tests: an Order on the app's lifecycle mixin."""

from decimal import Decimal

from django.db import models
from django_fsm import FSMField, transition

from django_order_mail.carts.mixins import AbandonedCartMixin
from django_order_mail.lifecycle.mixins import OrderMailContextMixin, OrderMailMixin


class Order(OrderMailMixin, models.Model):
    number = models.CharField(max_length=20, unique=True)
    email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, default="en")
    sales_channel = models.CharField(max_length=20, default="web")
    currency = models.CharField(max_length=3, default="USD")
    card_brand = models.CharField(max_length=20, default="Visa")
    card_number = models.CharField(max_length=20, default="4242424242424242")

    mail_prefetch_related = ("lines",)

    def get_mail_line_items(self):
        return [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.unit_price * line.quantity,
            }
            for line in self.lines.all()
        ]

    def get_mail_totals(self):
        subtotal = sum((i["total"] for i in self.get_mail_line_items()), Decimal("0"))
        shipping = Decimal("4.90")
        tax = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"))
        return {"subtotal": subtotal, "shipping": shipping, "tax": tax, "total": subtotal + shipping + tax}

    def get_mail_payment(self):
        # Deliberately hands over the full number: the app must keep only 4 digits.
        return {"brand": self.card_brand, "last4": self.card_number}

    def get_mail_addresses(self):
        lines = [self.customer_name, "1 Test Street", "0150 Oslo", "Norway"]
        return {"shipping": lines, "billing": lines}

    def get_mail_order_url(self):
        return f"https://shop.example/orders/{self.number}/"

    @transition(field="state", source="awaiting_shipment", target="awaiting_shipment")
    def mark_ready_for_pickup(self, *, pickup_point: str = "", notify=True):
        """A shop's own transition: its email is the registered event
        ``ready_for_pickup`` (tests.testapp.apps)."""


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)


class LegacyOrder(OrderMailContextMixin, models.Model):
    """A shop with its own django-fsm state machine, mapped to mail events."""

    status = FSMField(default="new")
    ref = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)

    mail_transitions = {"pay": ("order_confirmation",), "dispatch": ("shipping_confirmation",)}

    def get_mail_order_number(self):
        return self.ref

    @transition(field=status, source="new", target="paid")
    def pay(self):
        pass

    @transition(field=status, source="paid", target="sent")
    def dispatch(self, shipment):
        pass


# -- abandoned carts (django_order_mail.carts) ----------------------------------


class Cart(AbandonedCartMixin, models.Model):
    """A shop's cart on the abandoned-cart mixin; items are CartItem rows."""

    customer_name = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3, default="EUR")

    def get_cart_items(self):
        return [
            {
                "name": item.name,
                "price": item.price,
                "quantity": item.quantity,
                "image_url": f"https://shop.example/img/{item.sku}.png",
                "url": f"https://shop.example/p/{item.sku}/",
                "stock_left": item.stock_left,
            }
            for item in self.items.all()
        ]

    def get_checkout_url(self, request=None):
        return "/shop/checkout/"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, related_name="items", on_delete=models.CASCADE)
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField(default=1)
    stock_left = models.PositiveIntegerField(null=True, blank=True)
