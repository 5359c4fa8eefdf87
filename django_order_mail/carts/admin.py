"""Admin of recovered carts: the list, and above it the recovery rate and
recovered revenue per reminder step and per ISO week (server-rendered
tables, no JavaScript, no CDN).

Registered from ``OrderMailConfig.ready()``, like ``tracking.admin``. The
pages staff set the reminders up with are in :mod:`.staff_admin`; the
columns for the shop's own cart admin in :mod:`.cart_admin`.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin.links import email_link
from ..templatetags.order_mail import money
from . import (
    staff_admin,  # noqa: F401 - registers the sequence, coupon rule and coupon pages
    stats,
)
from .models import CartRecovery

WEEK_CHOICES = (4, 12, 26, 52)


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f} %"


def revenue_text(revenue: dict) -> str:
    if not revenue:
        return "–"
    return ", ".join(money(amount, currency) for currency, amount in sorted(revenue.items()))


def display(figures: stats.Figures) -> dict:
    return {
        "label": figures.label,
        "sent": figures.sent,
        "recovered": figures.recovered,
        "rate": percent(figures.rate),
        "bar": round(min(figures.rate or 0, 1) * 100, 1),
        "revenue": revenue_text(figures.revenue),
    }


@admin.register(CartRecovery)
class CartRecoveryAdmin(admin.ModelAdmin):
    list_display = (
        "recovered_at",
        "order_reference",
        "step",
        "source",
        "revenue_display",
        "coupon_code",
        "recipient",
        "reminder_link",
    )
    list_filter = ("step", "source", "recovered_at")
    search_fields = ("=order_reference", "recipient", "=coupon_code")
    date_hierarchy = "recovered_at"
    list_select_related = ("reminder",)
    show_full_result_count = False
    change_list_template = "admin/order_mail_carts/cartrecovery/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in CartRecovery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("revenue"), ordering="revenue")
    def revenue_display(self, obj):
        return money(obj.revenue, obj.currency) if obj.revenue is not None else "–"

    @admin.display(description=_("reminder"))
    def reminder_link(self, obj):
        return email_link(obj.reminder_id)

    def changelist_view(self, request, extra_context=None):
        try:
            weeks = min(max(int(request.GET.get("weeks", "")), 1), 104)
        except ValueError:
            weeks = 12
        since = stats.period_start(weeks)
        context = {
            "cart_weeks": weeks,
            "cart_week_choices": WEEK_CHOICES,
            "cart_total": display(stats.overall(since)),
            "cart_steps": [display(f) for f in stats.per_step(since)],
            "cart_by_week": [display(f) for f in reversed(stats.per_week(since))],
            "cart_title": gettext("Abandoned-cart recovery"),
            **(extra_context or {}),
        }
        # "weeks" is ours, not a field lookup of the change list.
        if "weeks" in request.GET:
            request.GET = request.GET.copy()
            del request.GET["weeks"]
        return super().changelist_view(request, extra_context=context)
