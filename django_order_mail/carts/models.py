"""The record of a recovered cart: which reminder brought which order back.

A model of the abandoned-cart app (label ``order_mail_carts``). The
reminders themselves are outbox rows
(event ``abandoned_cart``, ``extra["step"]``); a recovery points at the one
that gets the credit.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..outbox.models import OutboxEmail


class CartRecovery(models.Model):
    """One cart that became an order after a reminder.

    At most one per cart and one per order: recording the same order twice
    (a retried checkout, a webhook delivered twice) changes nothing.
    """

    class Source(models.TextChoices):
        RESTORE_LINK = "restore_link", _("Restore link in the reminder")
        CART = "cart", _("Reminded cart was ordered")
        WINDOW = "window", _("Order within the attribution window")

    cart_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("cart type")
    )
    cart_id = models.CharField(_("cart id"), max_length=64)
    cart = GenericForeignKey("cart_type", "cart_id")
    reminder = models.ForeignKey(
        OutboxEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cart_recoveries",
        verbose_name=_("reminder credited"),
    )
    step = models.PositiveSmallIntegerField(_("step"))
    reminded_at = models.DateTimeField(_("reminder sent at"), db_index=True)
    recipient = models.EmailField(_("customer email"), max_length=254, db_index=True)
    source = models.CharField(_("attributed by"), max_length=20, choices=Source.choices)

    order_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("order type"),
    )
    order_id = models.CharField(_("order id"), max_length=64, blank=True)
    order = GenericForeignKey("order_type", "order_id")
    order_reference = models.CharField(_("order number"), max_length=64, blank=True)
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    coupon_code = models.CharField(_("coupon in the reminder"), max_length=100, blank=True)
    recovered_at = models.DateTimeField(_("recovered at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("recovered cart")
        verbose_name_plural = _("recovered carts")
        ordering = ("-recovered_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["cart_type", "cart_id"], name="order_mail_recovery_cart_uniq"),
            models.UniqueConstraint(
                fields=["order_type", "order_id"],
                condition=Q(order_type__isnull=False),
                name="order_mail_recovery_order_uniq",
            ),
        ]

    def __str__(self):
        return f"{self.order_reference or self.order_id} ← {self.cart_id} (step {self.step})"


class CartCoupon(models.Model):
    """A coupon issued for a reminder: the ledger the rationing policy reads.

    Written when the coupon is issued, right before the reminder is sent, with
    the address normalised (lower case), so "once per N days" cannot be
    dodged by typing the address differently.
    """

    code = models.CharField(_("code"), max_length=100, db_index=True)
    recipient = models.EmailField(_("customer email"), max_length=254)
    reminder = models.ForeignKey(
        OutboxEmail,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cart_coupons",
        verbose_name=_("reminder"),
    )
    step = models.PositiveSmallIntegerField(_("step"))
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)

    class Meta:
        verbose_name = _("cart coupon")
        verbose_name_plural = _("cart coupons")
        ordering = ("-issued_at", "-id")
        indexes = [models.Index(fields=["recipient", "-issued_at"], name="order_mail_cart_coupon_idx")]

    def __str__(self):
        return self.code
