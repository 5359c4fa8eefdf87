from decimal import Decimal

from django.db import models

from django_order_mail.lifecycle.mixins import OrderMailMixin


class Order(OrderMailMixin, models.Model):
    number = models.CharField(max_length=20, unique=True)
    email = models.EmailField()  # the recipient
    customer_name = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=10, default="en")
    currency = models.CharField(max_length=3, default="EUR")
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)

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
        return {"subtotal": subtotal, "shipping": self.shipping, "total": subtotal + self.shipping}

    def get_mail_payment(self):
        return {"brand": self.card_brand, "last4": self.card_last4}

    def get_mail_addresses(self):
        lines = [self.customer_name, "Storgata 1", "0150 Oslo", "Norway"]
        return {"shipping": lines, "billing": lines}

    def get_mail_order_url(self):
        return f"https://socks.example/orders/{self.number}/"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
