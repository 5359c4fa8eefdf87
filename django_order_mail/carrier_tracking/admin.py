"""Admin pages of carrier tracking: the tracked shipments (with the "no
carrier scan for N days" filter staff are warned with) and the provider
events as they came in. Both read-only: the carrier's webhooks write them.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .app_settings import app_settings
from .models import CarrierEvent, CarrierShipment
from .stale import stale_shipments, with_last_seen
from .status import TrackingStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CarrierScanFilter(admin.SimpleListFilter):
    """Parcels the carrier has not scanned for ``CARRIER_TRACKING_STALE_DAYS``
    (:func:`.stale.stale_shipments`)."""

    title = _("carrier scans")
    parameter_name = "no_scan"

    def lookups(self, request, model_admin):
        days = app_settings.CARRIER_TRACKING_STALE_DAYS
        label = ngettext(
            "No carrier scan for %(days)d day or more", "No carrier scan for %(days)d days or more", days
        )
        return [("stale", label % {"days": days})]

    def queryset(self, request, queryset):
        if self.value() == "stale":
            return queryset.filter(pk__in=stale_shipments(model=CarrierShipment).values("pk"))
        return queryset


class CarrierStatusFilter(admin.SimpleListFilter):
    title = _("carrier status")
    parameter_name = "carrier_status"

    def lookups(self, request, model_admin):
        return [("none", _("No carrier event yet")), *TrackingStatus.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(carrier_tracking__isnull=True)
        if value:
            return queryset.filter(carrier_tracking__status=value)
        return queryset


@admin.register(CarrierShipment)
class CarrierShipmentAdmin(ReadOnlyAdmin):
    list_display = (
        "tracking_number",
        "carrier",
        "object_id",
        "carrier_status",
        "last_seen_display",
        "days_silent",
        "shipped_at",
        "delivered_at",
    )
    list_filter = (CarrierScanFilter, CarrierStatusFilter, "carrier")
    search_fields = ("=tracking_number", "=object_id", "=carrier_tracking__tracking_number")
    list_select_related = ("carrier_tracking",)
    show_full_result_count = False
    fields = (
        "carrier",
        "tracking_number",
        "content_type",
        "object_id",
        "shipped_at",
        "delivered_at",
        "carrier_status",
        "last_checkpoint",
        "last_seen_display",
        "provider",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return with_last_seen(super().get_queryset(request))

    @staticmethod
    def _tracking(obj):
        return getattr(obj, "carrier_tracking", None)

    @admin.display(description=_("carrier status"), ordering="carrier_tracking__status")
    def carrier_status(self, obj):
        tracking = self._tracking(obj)
        return tracking.get_status_display() if tracking is not None and tracking.status else "–"

    @admin.display(description=_("last carrier scan"))
    def last_checkpoint(self, obj):
        tracking = self._tracking(obj)
        return tracking.last_checkpoint if tracking is not None and tracking.last_checkpoint else "–"

    @admin.display(description=_("provider"))
    def provider(self, obj):
        tracking = self._tracking(obj)
        return tracking.provider if tracking is not None and tracking.provider else "–"

    @admin.display(description=_("last scan (or shipped) at"), ordering="last_seen")
    def last_seen_display(self, obj):
        return getattr(obj, "last_seen", None) or obj.shipped_at

    @admin.display(description=_("days without scan"))
    def days_silent(self, obj):
        if obj.delivered_at is not None:
            return "–"
        seen = getattr(obj, "last_seen", None) or obj.shipped_at
        return max((timezone.now() - seen).days, 0)


@admin.register(CarrierEvent)
class CarrierEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "provider",
        "tracking_number",
        "status",
        "raw_status",
        "occurred_at",
        "outcome",
    )
    list_filter = ("provider", "status", "received_at")
    search_fields = ("=tracking_number", "=event_id")
    show_full_result_count = False
