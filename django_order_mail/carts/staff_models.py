"""What staff set up in the admin: the reminder sequence and coupon rules.

Models of the abandoned-cart app (label ``order_mail_carts``), imported by
:mod:`.models`. While nobody saved the sequence,
``ORDER_MAIL["ABANDONED_CART_STEPS"]`` applies exactly as before
(:func:`.sequence.configured_steps`); once saved, its steps replace the
setting. Coupon rules give codes without a Python hook; a project's own
``ABANDONED_CART_COUPON_ISSUER`` wins when set (``docs/abandoned-cart.rst``).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..rendering.sandbox import UnsafeTemplateError, check_source

#: Longest delay of a step: 90 days.
MAX_STEP_HOURS = 24 * 90
#: How many steps a sequence may have.
MAX_STEPS = 10


def validate_subject(value: str) -> None:
    """A step's subject: one line, through the sandbox of every staff text."""
    if "\n" in value or "\r" in value:
        raise ValidationError(_("A subject must be one line."))
    try:
        check_source(value, allow_include=False)
    except UnsafeTemplateError as exc:
        raise ValidationError(_("Template syntax error: %(error)s"), params={"error": exc}) from exc


class ReminderSequence(models.Model):
    """The abandoned-cart sequence staff edit (one record, pk 1): its steps
    are :class:`ReminderStep` rows."""

    SINGLETON_PK = 1

    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("reminder sequence")
        verbose_name_plural = _("reminder sequence")

    def __str__(self):
        return str(_("Abandoned-cart reminder sequence"))


class ReminderStep(models.Model):
    """One reminder of the sequence: when, with which subject and coupon, on or off."""

    sequence = models.ForeignKey(ReminderSequence, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField(
        _("step"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_STEPS)],
        help_text=_("1 for the first reminder, 2 for the second..."),
    )
    after_hours = models.DecimalField(
        _("delay (hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[
            MinValueValidator(Decimal("0.1"), _("The delay must be at least 0.1 hours (6 minutes).")),
            MaxValueValidator(MAX_STEP_HOURS, _("The delay can be at most 90 days (2160 hours).")),
        ],
        help_text=_("Hours of cart inactivity before this reminder."),
    )
    enabled = models.BooleanField(
        _("on"), default=True, help_text=_("Off: carts skip this reminder and wait for the next one.")
    )
    subject = models.CharField(
        _("subject"),
        max_length=300,
        blank=True,
        validators=[validate_subject],
        help_text=_("Empty: the template's subject. Variables such as {{ customer_name }} work."),
    )
    subject_language = models.CharField(
        _("subject language"),
        max_length=15,
        blank=True,
        help_text=_(
            "The language the subject is written in (e.g. 'de'): emails in other languages keep the "
            "template's subject. Empty: the site's default language."
        ),
    )
    coupon_rule = models.ForeignKey(
        "CouponRule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="steps",
        verbose_name=_("coupon"),
        help_text=_("Empty: no coupon in this reminder."),
    )

    class Meta:
        verbose_name = _("reminder step")
        verbose_name_plural = _("reminder steps")
        ordering = ("sequence", "number")
        constraints = [
            models.UniqueConstraint(fields=["sequence", "number"], name="order_mail_cart_step_uniq"),
        ]

    def __str__(self):
        return str(_("Step %(number)s") % {"number": self.number})


class CouponRule(models.Model):
    """How the coupons of a reminder step are made and rationed.

    Each reminder that goes out with this rule gets its own code: random,
    unique, bound to the customer's address, usable once, expiring after
    ``valid_days`` (:mod:`.coupons`).
    """

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Percentage off")
        AMOUNT = "amount", _("Amount off")

    name = models.CharField(_("name"), max_length=100, help_text=_("For staff, e.g. 'Last reminder coupon'."))
    kind = models.CharField(_("discount"), max_length=10, choices=Kind.choices, default=Kind.PERCENT)
    value = models.DecimalField(
        _("value"),
        max_digits=10,
        decimal_places=2,
        help_text=_("Percent (1 to 100) or the amount in the currency below."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z]{3}$", _("A three-letter currency code such as EUR."))],
        help_text=_("Needed for an amount off; the rule then only applies to carts in this currency."),
    )
    minimum_cart_value = models.DecimalField(
        _("minimum cart value"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"), _("The minimum cart value cannot be negative."))],
        help_text=_("Carts worth less get no code. Empty: any cart."),
    )
    per_customer_limit = models.PositiveSmallIntegerField(
        _("codes per customer"),
        default=1,
        validators=[MinValueValidator(1, _("Allow at least one code per customer."))],
        help_text=_("At most this many codes of this rule ever go to one email address."),
    )
    first_recovery_only = models.BooleanField(
        _("first recovered cart only"),
        default=True,
        help_text=_("No code for customers who already recovered a cart once."),
    )
    once_per_days = models.PositiveSmallIntegerField(
        _("at most one coupon per (days)"),
        null=True,
        blank=True,
        default=90,
        validators=[MinValueValidator(1, _("Enter at least one day, or leave it empty."))],
        help_text=_("At most one coupon of any kind per address within this many days. Empty: no limit."),
    )
    valid_days = models.PositiveSmallIntegerField(
        _("code valid for (days)"),
        default=7,
        validators=[
            MinValueValidator(1, _("A code must be valid for at least one day.")),
            MaxValueValidator(365, _("A code can be valid for at most 365 days.")),
        ],
    )
    code_prefix = models.CharField(
        _("code prefix"),
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9-]*$", _("Capital letters, digits and '-' only."))],
        help_text=_("Optional, e.g. 'CART-'. A random part follows."),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Off: this rule gives no more codes.")
    )
    ends_at = models.DateTimeField(
        _("gives codes until"), null=True, blank=True, help_text=_("Empty: until switched off.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("coupon rule")
        verbose_name_plural = _("coupon rules")
        ordering = ("name", "id")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        self.currency = (self.currency or "").upper()
        if self.value is not None:
            if self.kind == self.Kind.PERCENT and not (Decimal("1") <= self.value <= Decimal("100")):
                errors["value"] = _("A percentage must be between 1 and 100.")
            elif self.kind == self.Kind.AMOUNT and self.value <= 0:
                errors["value"] = _("The amount must be more than zero.")
        if self.kind == self.Kind.AMOUNT and not self.currency:
            errors["currency"] = _("Say which currency the amount is in.")
        if errors:
            raise ValidationError(errors)

    def gives_codes(self, now=None) -> bool:
        now = now or timezone.now()
        return self.active and (self.ends_at is None or self.ends_at > now)
