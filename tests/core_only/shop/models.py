"""The smallest shop: an order on the core's lifecycle mixin, nothing else."""

from django.db import models

from django_order_mail.lifecycle.mixins import OrderMailMixin


class Order(OrderMailMixin, models.Model):
    number = models.CharField(max_length=20, unique=True)
    email = models.EmailField()
    customer_name = models.CharField(max_length=100, blank=True)

    def get_mail_line_items(self):
        return [{"name": "Enamel mug", "quantity": 1, "unit_price": "9.90", "total": "9.90"}]
