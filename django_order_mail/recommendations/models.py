"""What the packaged "bought together" recommendations learn from placed orders.

Counts only: which products were bought, and which were bought together in
how many orders. No customer, address or order content beyond the product's
id, name and links is stored (``docs/recommendations.rst``), so the tables
hold no personal data and need no export or erasure.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PurchasedProduct(models.Model):
    """A product of the shop's placed orders, as its newest order line named it."""

    product_id = models.CharField(_("product id"), max_length=128, unique=True)
    name = models.CharField(_("product"), max_length=255)
    url = models.CharField(_("product page"), max_length=500, blank=True)
    image_url = models.CharField(_("image"), max_length=500, blank=True)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    last_ordered_at = models.DateTimeField(_("last ordered"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("purchased product")
        verbose_name_plural = _("purchased products")
        ordering = ("-orders", "product_id")

    def __str__(self):
        return self.name or self.product_id


class BoughtTogether(models.Model):
    """``product`` and ``other`` were bought in the same order ``orders`` times
    (stored both ways round, so one index answers "bought with these")."""

    product = models.ForeignKey(PurchasedProduct, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(PurchasedProduct, on_delete=models.CASCADE, related_name="+")
    orders = models.PositiveIntegerField(_("orders"), default=0)
    last_ordered_at = models.DateTimeField(_("last ordered"), default=timezone.now)

    class Meta:
        verbose_name = _("products bought together")
        verbose_name_plural = _("products bought together")
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="order_mail_bought_together_uniq"),
        ]
        indexes = [models.Index(fields=["product", "-orders"], name="order_mail_bought_tog_rank")]

    def __str__(self):
        return f"{self.product_id} + {self.other_id}: {self.orders}"


class LearnedOrder(models.Model):
    """An order whose products were counted: each order is counted once,
    whether live or by ``order_mail_recommendations_learn``."""

    order_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=64)
    learned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("learned order")
        verbose_name_plural = _("learned orders")
        constraints = [
            models.UniqueConstraint(fields=["order_type", "order_id"], name="order_mail_learned_order_uniq"),
        ]

    def __str__(self):
        return f"{self.order_type_id}:{self.order_id}"
