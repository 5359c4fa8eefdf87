"""Who on the staff gets which internal event: one row per event, set in the admin.

A row replaces the event's default from the settings (``FEEDBACK_ALERT_EMAIL``,
``BRANDING["support_email"]``...) entirely, recipients and on/off alike;
deleting the row goes back to the settings (:mod:`.recipients`). Recipients
are addresses (a shared inbox) and/or staff users: a user gets it at the
address of their account for as long as the account is an active staff
account, so a staff member who leaves stops getting it when their account is
deactivated, with no change to code or settings.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..events import registered_events
from ..outbox.addresses import normalize_address


def internal_event_choices() -> list[tuple[str, object]]:
    """``(name, label)`` of every registered internal event (a callable, so
    a shop's own internal event needs no migration)."""
    return [(e.name, e.label) for e in registered_events() if e.internal]


_SEPARATORS = re.compile(r"[\s,;]+")


def split_addresses(text: str | None) -> list[str]:
    """The addresses of the admin's field: one per line or separated by
    commas (or semicolons, as some mail programs copy them)."""
    return [part for part in _SEPARATORS.split(text or "") if part]


class StaffNotification(models.Model):
    """The recipients of one internal event (``docs/staff-guide.rst``)."""

    event = models.CharField(_("notification"), max_length=40, unique=True, choices=internal_event_choices)
    enabled = models.BooleanField(
        _("on"),
        default=True,
        help_text=_("Unticked: nobody is told, whatever the settings say."),
    )
    emails = models.TextField(
        _("email addresses"),
        blank=True,
        help_text=_("One per line or separated by commas, e.g. a shared inbox such as orders@shop.example."),
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("staff users"),
        help_text=_(
            "Each gets it at the email address of their account while it is an active staff account."
        ),
    )
    threshold = models.DecimalField(
        _("threshold"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("High-value orders: staff are told of orders whose total is at least this amount."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        help_text=_(
            "The threshold's currency (EUR, NOK, USD...). An order in another currency is "
            "compared only with a threshold of its own currency, below."
        ),
    )
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("staff notification")
        verbose_name_plural = _("staff notifications")
        ordering = ("event",)

    def __str__(self):
        return str(self.get_event_display())

    def thresholds(self) -> dict[str, Decimal]:
        """``{currency: threshold}``: this row's own, then the other
        currencies' (``other_thresholds``; prefetch it for many rows)."""
        found: dict[str, Decimal] = {}
        if self.threshold is not None:
            found[(self.currency or "").upper()] = self.threshold
        if self.pk is not None:
            for other in self.other_thresholds.all():
                found.setdefault(other.currency.upper(), other.threshold)
        return found

    def addresses(self) -> list[str]:
        """The addresses to write to now: the typed ones, then each active
        staff user's, each address once (compared case-insensitively)."""
        found = split_addresses(self.emails)
        for user in self.users.all():
            # An account deactivated or no longer staff (someone who left)
            # gets nothing more: internal mail carries customers' data.
            if not getattr(user, "is_active", True) or not getattr(user, "is_staff", True):
                continue
            email = getattr(user, user.get_email_field_name(), "") or ""
            if email:
                found.append(email)
        seen: set[str] = set()
        unique = []
        for address in found:
            key = normalize_address(address)
            if key and key not in seen:
                seen.add(key)
                unique.append(address.strip())
        return unique


class HighValueThreshold(models.Model):
    """The high-value threshold in one more currency: a shop selling in EUR
    on its own site and in SEK or GBP on marketplaces is told of big orders in
    each. Amounts are never converted: staff set what counts as big in each
    currency (``docs/staff-guide.rst``, *Staff notifications*)."""

    notification = models.ForeignKey(
        StaffNotification,
        on_delete=models.CASCADE,
        related_name="other_thresholds",
        verbose_name=_("staff notification"),
    )
    currency = models.CharField(_("currency"), max_length=3)
    threshold = models.DecimalField(_("threshold"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("threshold in another currency")
        verbose_name_plural = _("thresholds in other currencies")
        ordering = ("currency",)
        constraints = [
            models.UniqueConstraint(
                fields=("notification", "currency"), name="order_mail_one_threshold_per_currency"
            )
        ]

    def __str__(self):
        return f"{self.threshold} {self.currency}"
