"""The demo shop's catalogue and orders.

``Order`` inherits django-order-mail's lifecycle (``OrderMailMixin``) and
answers its ``get_mail_*`` hooks from its own fields, which is all a shop
writes to get the emails.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import transition

from django_order_mail.carts.mixins import AbandonedCartMixin
from django_order_mail.conf import get_setting
from django_order_mail.lifecycle.mixins import OrderMailMixin
from django_order_mail.lifecycle.states import OrderState

CENT = Decimal("0.01")
_TOKEN_SALT = "shop.order-link"


class Product(models.Model):
    name = models.CharField(max_length=120)
    sku = models.CharField("SKU", max_length=40, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Price in EUR.")
    image_url = models.URLField(max_length=500, blank=True)
    stock = models.PositiveIntegerField(
        null=True, blank=True, help_text="Units in stock (empty: not tracked). Low stock shows in reminders."
    )

    class Meta:
        ordering = ("name",)

    def __str__(self):
        return f"{self.name} ({self.sku})"


class SalesChannel(models.TextChoices):
    WEB = "web", "Web shop"
    AMAZON_FBA = "amazon_fba", "Amazon (fulfilled by Amazon)"
    AMAZON_FBM = "amazon_fbm", "Amazon (fulfilled by merchant)"
    ALIEXPRESS = "aliexpress", "AliExpress"


def add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


class Order(OrderMailMixin, models.Model):
    number = models.CharField(max_length=20, unique=True)
    email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, default="en")
    sales_channel = models.CharField(max_length=20, choices=SalesChannel.choices, default=SalesChannel.WEB)
    currency = models.CharField(max_length=3, default="EUR")

    #: The worker loads a batch of orders with their lines and products in
    #: three queries; get_mail_line_items() reads self.lines.all().
    mail_prefetch_related = ("lines__product",)

    card_brand = models.CharField(max_length=30, blank=True)
    card_last4 = models.CharField(
        "card last 4 digits",
        max_length=4,
        blank=True,
        validators=[RegexValidator(r"^\d{4}$", "Four digits, never the full card number.")],
    )
    billing_address = models.TextField(blank=True, help_text="One line per address line.")
    shipping_address = models.TextField(blank=True, help_text="One line per address line.")
    shipping_method = models.CharField(max_length=100, blank=True)
    handling_days = models.PositiveSmallIntegerField(default=1, help_text="Business days until it ships.")
    transit_days_min = models.PositiveSmallIntegerField(default=2)
    transit_days_max = models.PositiveSmallIntegerField(default=5)

    shipping_cost = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=Decimal("0"), help_text="0.25 for 25 % VAT."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self):
        return f"Order {self.number}"

    @transition(field="state", source=OrderState.AWAITING_SHIPMENT, target=OrderState.AWAITING_SHIPMENT)
    def mark_ready_for_pickup(self, *, pickup_point: str = "", notify=True):
        """Click and collect: the order waits in the shop. Sends the shop's own
        ``ready_for_pickup`` email (registered in ``ShopConfig.ready``)."""

    # -- money ------------------------------------------------------------------
    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines.all()), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return ((self.subtotal - self.discount) * self.tax_rate).quantize(CENT)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping_cost + self.tax

    # -- customer links (signed: order numbers are guessable) --------------------
    def link_token(self) -> str:
        return signing.dumps(self.pk, salt=_TOKEN_SALT)

    @classmethod
    def from_link_token(cls, token: str) -> Order:
        return cls.objects.get(pk=signing.loads(token, salt=_TOKEN_SALT))

    def _absolute(self, name: str) -> str:
        path = reverse(name, kwargs={"token": self.link_token()})
        return get_setting("SITE_URL").rstrip("/") + path

    # -- django-order-mail hooks ----------------------------------------------------
    def get_mail_line_items(self) -> list[dict]:
        return [
            {
                "name": line.name,
                "sku": line.sku,
                "variant": line.variant,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.total,
                "image_url": line.product.image_url if line.product_id else "",
                # The product page: recommendations link to it (docs/recommendations.rst).
                "url": self._product_url(line.sku) if line.product_id else "",
            }
            for line in self.lines.all()  # prefetched with their products (mail_prefetch_related)
        ]

    @staticmethod
    def _product_url(sku: str) -> str:
        return get_setting("SITE_URL").rstrip("/") + reverse("shop:product", kwargs={"sku": sku})

    def get_mail_totals(self) -> dict:
        return {
            "subtotal": self.subtotal,
            "discount": self.discount or None,
            "shipping": self.shipping_cost,
            "tax": self.tax if self.tax_rate else None,
            "total": self.total,
        }

    def get_mail_addresses(self) -> dict:
        def lines(text):
            return [line.strip() for line in (text or "").splitlines() if line.strip()]

        shipping = lines(self.shipping_address)
        return {"shipping": shipping, "billing": lines(self.billing_address) or shipping}

    def get_mail_payment(self) -> dict:
        return {"brand": self.card_brand, "last4": self.card_last4}

    def get_mail_expected_dates(self) -> dict:
        placed = timezone.localdate(self.created_at)
        ship_by = add_business_days(placed, self.handling_days)
        return {
            "ship_by": ship_by,
            "deliver_from": add_business_days(ship_by, self.transit_days_min),
            "deliver_to": add_business_days(ship_by, self.transit_days_max),
        }

    def get_mail_order_url(self) -> str:
        return self._absolute("shop:order_status")

    def get_mail_retry_payment_url(self) -> str:
        return self._absolute("shop:retry_payment")


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL)
    # A snapshot of what was bought: the catalogue may change later.
    name = models.CharField(max_length=120)
    sku = models.CharField("SKU", max_length=40, blank=True)
    variant = models.CharField(max_length=80, blank=True, help_text="Size, colour...")
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ("id",)

    def __str__(self):
        return f"{self.quantity} × {self.name}"

    @property
    def total(self) -> Decimal:
        return (self.unit_price or Decimal("0")) * self.quantity


# -- the cart (django-order-mail's abandoned-cart reminders) -------------------------


class Cart(AbandonedCartMixin, models.Model):
    """A visitor's cart. The mixin adds the email, activity and reminder
    fields and the scan's index; the hooks below tell it what is inside."""

    customer_name = models.CharField(max_length=120, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(AbandonedCartMixin.Meta):  # keeps the mixin's index
        ordering = ("-last_activity_at", "-id")

    def __str__(self):
        return f"Cart {self.pk}" + (f" ({self.email})" if self.email else "")

    def get_cart_items(self) -> list[dict]:
        site = get_setting("SITE_URL").rstrip("/")
        return [
            {
                "name": line.product.name,
                "price": line.product.price,
                "quantity": line.quantity,
                "image_url": line.product.image_url,
                "url": site + reverse("shop:cart"),
                "stock_left": line.product.stock,
            }
            for line in self.lines.select_related("product")
        ]

    def get_checkout_url(self, request=None) -> str:
        return reverse("shop:checkout")

    def place_order(self, *, request=None) -> Order:
        """Turn the cart into a paid order (the demo takes no real payment):
        the order confirmation is queued, the reminder sequence stops and a
        reminder that led here is credited."""
        last = Order.objects.aggregate(n=models.Max("id"))["n"] or 0
        with transaction.atomic():
            order = Order.objects.create(
                number=f"NG-{10001 + last}",
                email=self.email,
                customer_name=self.customer_name,
                language=self.language or "en",
                currency=self.currency,
                card_brand="Visa",
                card_last4="4242",
                shipping_method="Posten/Bring – Pakke i postkassen",
            )
            for line in self.lines.select_related("product"):
                OrderLine.objects.create(
                    order=order,
                    product=line.product,
                    name=line.product.name,
                    sku=line.product.sku,
                    quantity=line.quantity,
                    unit_price=line.product.price,
                )
            order.confirm_payment()
            order.save()
            self.mark_ordered(order, request=request)
        return order


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ("id",)
        constraints = [models.UniqueConstraint(fields=["cart", "product"], name="shop_cartline_uniq")]

    def __str__(self):
        return f"{self.quantity} × {self.product.name}"
