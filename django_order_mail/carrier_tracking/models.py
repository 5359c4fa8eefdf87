"""Models of carrier tracking (app label ``order_mail_carrier_tracking``).

The core's ``Shipment`` is left as it is; what this app learns about a
parcel lives beside it, in :class:`ShipmentTracking` (one row per tracked
parcel), :class:`CarrierEvent` (each provider event, stored once) and
:class:`StaleShipmentDigest` (one staff digest per day).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..lifecycle.shipments import Shipment
from .status import TrackingStatus


class ShipmentTracking(models.Model):
    """What the carrier last said about one parcel."""

    shipment = models.OneToOneField(
        Shipment,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="carrier_tracking",
        verbose_name=_("shipment"),
    )
    #: The parcel's number as the providers send it (no spaces or dashes,
    #: upper case): later events find the parcel by this index.
    tracking_number = models.CharField(_("tracking number"), max_length=100, db_index=True)
    provider = models.CharField(_("provider"), max_length=40, blank=True)
    carrier = models.CharField(_("carrier code"), max_length=40, blank=True)
    status = models.CharField(
        _("carrier status"), max_length=24, choices=TrackingStatus.choices, blank=True, default=""
    )
    status_at = models.DateTimeField(_("status since"), null=True, blank=True)
    last_checkpoint = models.TextField(_("last carrier scan"), blank=True)
    last_scan_at = models.DateTimeField(_("last scan at"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("carrier tracking")
        verbose_name_plural = _("carrier tracking")

    def __str__(self):
        return f"{self.tracking_number} {self.status}".strip()


class CarrierEvent(models.Model):
    """One provider webhook event, stored once: ``(provider, event_id)`` is
    unique, so an event the provider delivers twice is applied once."""

    provider = models.CharField(_("provider"), max_length=40)
    event_id = models.CharField(_("event id"), max_length=255)
    shipment = models.ForeignKey(
        Shipment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carrier_events",
        verbose_name=_("shipment"),
    )
    tracking_number = models.CharField(_("tracking number"), max_length=100)
    status = models.CharField(_("carrier status"), max_length=24, choices=TrackingStatus.choices)
    raw_status = models.CharField(_("provider status"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("reported time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("carrier event")
        verbose_name_plural = _("carrier events")
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="order_mail_carrier_event_uniq"),
        ]

    def __str__(self):
        return f"{self.provider} {self.status} {self.tracking_number}"


class StaleShipmentDigest(models.Model):
    """The staff digest of parcels without a carrier scan, one per day: the
    object its outbox emails (``stale_shipments_digest``) are about.
    ``recipient`` records whom it reached when written (the staff
    notifications' addresses, comma-separated; each has its own email)."""

    day = models.DateField(_("day"), unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    recipient = models.EmailField(_("recipient"), blank=True)
    shipment_ids = models.JSONField(_("shipments"), default=list, blank=True)

    class Meta:
        verbose_name = _("stale-shipment digest")
        verbose_name_plural = _("stale-shipment digests")
        ordering = ("-day",)

    def __str__(self):
        return gettext("Stale shipments of %(day)s") % {"day": self.day}

    # The hooks the outbox and the sender read (an order's, for staff mail).
    def get_mail_recipient(self) -> str:
        return self.recipient

    def get_mail_language(self) -> str:
        return settings.LANGUAGE_CODE

    def get_mail_channel(self) -> str:
        return ""

    def get_mail_customer_name(self) -> str:
        return ""

    def get_mail_order_number(self) -> str:
        return str(self.day)


class CarrierShipment(Shipment):
    """The admin's list of parcels with their carrier status and the
    "no carrier scan for N days" filter (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("tracked shipment")
        verbose_name_plural = _("tracked shipments")
