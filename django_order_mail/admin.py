"""Send log in the Django admin: read-only rows, their timeline, and the
staff actions (resend, retry, cancel)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import EmailLog, OutboxEmail, Shipment, Status
from .outbox import actions

_BADGE_COLOURS = {
    Status.SENT: "#15803d",
    Status.FAILED: "#b91c1c",
    Status.SUPPRESSED: "#a16207",
    Status.SKIPPED: "#6b7280",
    Status.CANCELLED: "#6b7280",
    Status.SCHEDULED: "#1d4ed8",
    Status.QUEUED: "#1d4ed8",
    Status.SENDING: "#7c3aed",
}


class EmailLogInline(admin.TabularInline):
    model = EmailLog
    extra = 0
    can_delete = False
    fields = ("created_at", "status", "message")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status_badge",
        "event",
        "reference",
        "recipient",
        "channel",
        "attempts",
        "created_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "event", "channel", "created_at")
    search_fields = ("=reference", "recipient", "=esp_message_id")
    list_select_related = ("content_type",)
    show_full_result_count = False  # no full COUNT(*) on a large send log
    date_hierarchy = None
    readonly_fields = [f.name for f in OutboxEmail._meta.fields]
    inlines = [EmailLogInline]
    actions = ["resend_emails", "retry_emails", "cancel_emails"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span style="color:#fff;background:{};padding:2px 8px;border-radius:10px">{}</span>',
            _BADGE_COLOURS.get(obj.status, "#6b7280"),
            obj.get_status_display(),
        )

    @admin.display(description=_("reason"))
    def short_error(self, obj):
        text = obj.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Rows are read-only; viewing needs only the view permission.
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("django_order_mail.resend_outboxemail")

    def _act(self, request, queryset, func):
        user = request.user.get_username()
        return sum(1 for row in queryset if func(row, by=user))

    @admin.action(description=_("Resend selected emails"), permissions=["resend"])
    def resend_emails(self, request, queryset):
        n = self._act(request, queryset, actions.resend)
        self.message_user(
            request, ngettext("%(n)d email queued again.", "%(n)d emails queued again.", n) % {"n": n}
        )

    @admin.action(description=_("Retry selected failed emails"), permissions=["resend"])
    def retry_emails(self, request, queryset):
        n = self._act(request, queryset, actions.retry)
        self.message_user(
            request, ngettext("%(n)d failed email retried.", "%(n)d failed emails retried.", n) % {"n": n}
        )

    @admin.action(description=_("Cancel selected unsent emails"), permissions=["resend"])
    def cancel_emails(self, request, queryset):
        n = self._act(request, queryset, actions.cancel)
        self.message_user(
            request, ngettext("%(n)d email cancelled.", "%(n)d emails cancelled.", n) % {"n": n}
        )


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ("id", "carrier", "tracking_number", "object_id", "shipped_at", "delivered_at")
    search_fields = ("=tracking_number", "=object_id")
    list_filter = ("carrier",)
