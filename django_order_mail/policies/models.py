"""The core's staff-edited policy records (:mod:`django_order_mail.policies`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

#: The longest window a cap may count over: 31 days.
MAX_CAP_HOURS = 24 * 31


class FrequencyCap(models.Model):
    """At most ``max_emails`` commercial emails per address within ``hours``
    (one record, pk 1).

    Once this record exists it replaces ``ORDER_MAIL["COMMERCIAL_FREQUENCY_CAP"]``
    entirely; the setting only gives the values the admin form starts with.
    """

    SINGLETON_PK = 1

    enabled = models.BooleanField(
        _("cap commercial email"),
        default=True,
        help_text=_("Off: no limit on commercial email per customer (transactional email is never capped)."),
    )
    max_emails = models.PositiveSmallIntegerField(
        _("at most (emails)"),
        default=1,
        validators=[MinValueValidator(1, _("The cap must allow at least one email."))],
        help_text=_("Commercial emails one address may get within the window."),
    )
    hours = models.PositiveSmallIntegerField(
        _("within (hours)"),
        default=24,
        validators=[
            MinValueValidator(1, _("The window must be at least one hour.")),
            MaxValueValidator(MAX_CAP_HOURS, _("The window can be at most 31 days (744 hours).")),
        ],
    )
    defer = models.JSONField(
        _("postpone instead of skipping"),
        default=list,
        blank=True,
        help_text=_(
            "Emails of these kinds wait until the cap allows them; any other commercial email over the "
            "cap is skipped."
        ),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    updated_by = models.CharField(_("changed by"), max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = _("commercial frequency cap")
        verbose_name_plural = _("commercial frequency cap")

    def __str__(self):
        return str(_("Commercial frequency cap"))

    def clean(self):
        from ..events import COMMERCIAL_EVENTS

        if not isinstance(self.defer, list):
            raise ValidationError({"defer": _("Choose the kinds of email from the list.")})
        unknown = [name for name in self.defer if name not in COMMERCIAL_EVENTS]
        if unknown:
            raise ValidationError(
                {
                    "defer": _("%(names)s: not a commercial email; only those are capped.")
                    % {"names": ", ".join(map(str, unknown))}
                }
            )

    def as_setting(self) -> dict | None:
        """The record in the setting's shape (None: no cap)."""
        if not self.enabled:
            return None
        return {"max": int(self.max_emails), "hours": int(self.hours), "defer": list(self.defer or [])}


class SettingChange(models.Model):
    """One field of a staff-edited policy record, changed: who, when, old -> new.

    Written by the admin pages of the frequency cap, the abandoned-cart
    sequence and coupon rules and the feedback schedule in the same
    transaction as the change. Read-only in the admin.
    """

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", verbose_name=_("record type")
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    field = models.CharField(_("field"), max_length=100)
    field_label = models.CharField(_("what"), max_length=200)
    old_value = models.TextField(_("before"), blank=True)
    new_value = models.TextField(_("after"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff user"),
    )
    changed_by_name = models.CharField(_("changed by"), max_length=150, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        ordering = ("-changed_at", "-id")
        indexes = [models.Index(fields=["content_type", "object_id"], name="order_mail_change_obj_idx")]

    def __str__(self):
        return f"{self.object_repr} · {self.field_label}: {self.old_value} → {self.new_value}"
