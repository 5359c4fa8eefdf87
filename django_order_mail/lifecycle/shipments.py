"""Shipments: an order can be sent in several parcels, each with its own email."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..memo import in_batch, memoized, prime
from .carriers import get_carrier


class Shipment(models.Model):
    """One parcel of an order, handed to a carrier.

    Linked to the shop's order model generically so the app works with any
    order model (integer or UUID primary keys).
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    order = GenericForeignKey("content_type", "object_id")

    carrier = models.CharField(_("carrier"), max_length=40)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    tracking_url = models.URLField(
        _("tracking URL"),
        max_length=500,
        blank=True,
        help_text=_("Leave empty to build it from the carrier registry."),
    )
    shipping_method = models.CharField(_("shipping method"), max_length=100, blank=True)
    items = models.JSONField(
        _("items in this parcel"),
        default=list,
        blank=True,
        help_text=_('List of {"name", "quantity", "sku"}; empty means every item of the order.'),
    )
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    estimated_delivery_from = models.DateField(_("estimated delivery from"), null=True, blank=True)
    estimated_delivery_to = models.DateField(_("estimated delivery to"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    delivery_instructions = models.CharField(
        _("delivery instructions"),
        max_length=255,
        blank=True,
        help_text=_("E.g. signature or ID required, pickup point if missed."),
    )

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ("shipped_at", "id")
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="order_mail_shipment_idx"),
            # Carrier events name a parcel by its tracking number, in any case
            # (the carrier-tracking app looks it up with iexact).
            models.Index(Upper("tracking_number"), name="order_mail_tracking_no_idx"),
        ]

    def __str__(self):
        return f"{self.carrier_name} {self.tracking_number}".strip()

    @property
    def carrier_name(self) -> str:
        return get_carrier(self.carrier).name

    def get_tracking_url(self) -> str:
        return self.tracking_url or get_carrier(self.carrier).tracking_url(self.tracking_number)

    @classmethod
    def for_order(cls, order) -> models.QuerySet[Shipment]:
        ct = ContentType.objects.get_for_model(order)
        return cls.objects.filter(content_type=ct, object_id=str(order.pk))

    @classmethod
    def list_for_order(cls, order) -> list[Shipment]:
        """The order's shipments as a list; fetched once per send batch
        (:func:`prime_for_orders` fetches a whole batch's in one query)."""
        ct = ContentType.objects.get_for_model(order)
        return memoized(("shipments", ct.pk, str(order.pk)), lambda: list(cls.for_order(order)))

    @classmethod
    def prime_for_orders(cls, content_type, object_ids) -> None:
        """One query for the shipments of every order in a send batch."""
        ids = {str(pk) for pk in object_ids}
        if not ids or not in_batch():
            return
        found: dict[str, list[Shipment]] = {pk: [] for pk in ids}
        for shipment in cls.objects.filter(content_type=content_type, object_id__in=ids):
            found[shipment.object_id].append(shipment)
        for pk, shipments in found.items():
            prime(("shipments", content_type.pk, pk), shipments)
