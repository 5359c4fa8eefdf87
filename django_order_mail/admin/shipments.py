"""Shipments in the admin (parcels are usually added from the shop's order page)."""

from __future__ import annotations

from django.contrib import admin

from ..lifecycle.shipments import Shipment


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("id", "carrier", "tracking_number", "object_id", "shipped_at", "delivered_at")
    search_fields = ("=tracking_number", "=object_id")
    list_filter = ("carrier",)
