"""The marketplace sync log in the admin: read-only, for staff who ask "did
this marketplace update reach the order, and if not, why?"
(``docs/marketplaces.rst``).

The log is written by the sync only; staff can filter, search and read it,
and follow an entry to its order, but never add, edit or delete entries (the
sync reads them to recognise repeats and stale updates).
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import MarketplaceOrderUpdate, MarketplaceSyncCursor


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MarketplaceOrderUpdate)
class MarketplaceOrderUpdateAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "marketplace",
        "external_order_id",
        "status",
        "outcome",
        "short_reason",
        "order_link",
    )
    list_filter = ("outcome", "marketplace", "created_at")
    search_fields = ("=external_order_id", "reason")
    date_hierarchy = "created_at"
    list_select_related = ("content_type",)
    fields = (
        "marketplace",
        "external_order_id",
        "status",
        "target_state",
        "sequence",
        "outcome",
        "reason",
        "transitions",
        "details",
        "attempts",
        "order_link",
        "payload_hash",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    @admin.display(description=_("reason"))
    def short_reason(self, obj: MarketplaceOrderUpdate) -> str:
        return obj.reason if len(obj.reason) <= 120 else f"{obj.reason[:119]}…"

    @admin.display(description=_("order"))
    def order_link(self, obj: MarketplaceOrderUpdate):
        ct = obj.content_type
        if ct is None or not obj.object_id:
            return "–"
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:  # the shop's order model has no admin
            return obj.object_id
        return format_html('<a href="{}">{}</a>', url, obj.object_id)


@admin.register(MarketplaceSyncCursor)
class MarketplaceSyncCursorAdmin(ReadOnlyAdmin):
    list_display = ("marketplace", "last_sequence", "last_run_at", "last_summary")
    fields = ("marketplace", "last_sequence", "last_run_at", "last_summary")
    readonly_fields = fields
