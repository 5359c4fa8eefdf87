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
from .staff_models import CouponRule, ReminderSequence, ReminderStep

__all__ = ["CartCoupon", "CartRecovery", "CouponRule", "ReminderSequence", "ReminderStep"]


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
    dodged by typing the address differently. A code of a staff
    :class:`CouponRule` also carries its terms (kept if the rule changes
    later), its expiry and its use (:mod:`.coupons`); such codes are unique.
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

    # A staff rule's code: its terms as issued, its expiry and its use.
    rule = models.ForeignKey(
        CouponRule,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coupons",
        verbose_name=_("coupon rule"),
    )
    kind = models.CharField(_("discount"), max_length=10, choices=CouponRule.Kind.choices, blank=True)
    value = models.DecimalField(_("value"), max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    minimum_cart_value = models.DecimalField(
        _("minimum cart value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("used at"), null=True, blank=True)
    redeemed_order = models.CharField(_("used for order"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("cart coupon")
        verbose_name_plural = _("cart coupons")
        ordering = ("-issued_at", "-id")
        indexes = [models.Index(fields=["recipient", "-issued_at"], name="order_mail_cart_coupon_idx")]
        constraints = [
            # The hook's codes belong to the shop's own system; the rules' are ours.
            models.UniqueConstraint(fields=["code"], condition=~Q(kind=""), name="order_mail_rule_code_uniq"),
        ]

    def __str__(self):
        return self.code
