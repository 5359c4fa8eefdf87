"""The log of data requests staff made: who, when, which kind, what changed.

Never the address in clear: an erasure request is logged with the keyed
hash of the address (:func:`.registry.keyed_hash`), so staff can tell that
the same customer asked twice without the log keeping what was forgotten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataRequest(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", _("Export")
        ERASURE = "erasure", _("Erasure")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    address_hash = models.CharField(
        _("address (keyed hash)"),
        max_length=64,
        db_index=True,
        help_text=_("HMAC of the normalised address: the address itself is not kept."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff user"),
    )
    requested_by_name = models.CharField(_("by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    counts = models.JSONField(_("rows per kind of data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ("-created_at", "-id")
        permissions = [("handle_datarequest", _("Can export and erase a customer's data"))]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def total(self) -> int:
        return sum(v for v in self.counts.values() if isinstance(v, int))
