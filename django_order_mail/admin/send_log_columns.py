"""The send log's list columns, its paginator and its channel filter.

The columns are built for a 1366 px wide screen with the filter sidebar
open: one cell for the customer (name above, address below), one for the
time, the long texts cut with an ellipsis and shown whole on hover
(``static/django_order_mail/admin/send_log.css``). The delivery, opens and
clicks columns appear only when an app reports them
(:mod:`django_order_mail.outbox.engagement`).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db import connections
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..events import DEFAULT_CHANNELS
from ..outbox.delivery_status import TERMINAL, DeliveryStatus
from ..outbox.models import OutboxEmail, Status

_BADGE_COLOURS: dict[str, str] = {
    Status.SENT: "#15803d",
    Status.FAILED: "#b91c1c",
    Status.SUPPRESSED: "#a16207",
    Status.SKIPPED: "#6b7280",
    Status.CANCELLED: "#6b7280",
    Status.SCHEDULED: "#1d4ed8",
    Status.QUEUED: "#1d4ed8",
    Status.SENDING: "#7c3aed",
}


def status_badge(row: OutboxEmail) -> str:
    """A coloured pill with the row's status (and "test" for test emails)."""
    badge = format_html(
        '<span class="order-mail-badge" style="color:#fff;background:{};padding:2px 8px;'
        'border-radius:10px;white-space:nowrap">{}</span>',
        _BADGE_COLOURS.get(row.status, "#6b7280"),
        row.status_label,
    )
    if row.is_test:
        badge = format_html(
            '{} <span style="border:1px solid #6b7280;padding:1px 6px;border-radius:10px">{}</span>',
            badge,
            gettext("test"),
        )
    return badge


def short_time(value) -> str:
    """A compact local time for list columns (the detail page has the full one)."""
    if value is None:
        return "–"
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def order_admin_url(row: OutboxEmail, site: admin.AdminSite | None = None) -> str:
    """The shop's admin page of the row's order, or "" if it has none.

    With ``site``, an order model not registered there has no page, without
    asking ``reverse()``: a name that does not resolve is looked for in
    every URL pattern, for each row of the send log's list."""
    ct = ContentType.objects.get_for_id(row.content_type_id)  # cached: no query per row
    if site is not None:
        model = ct.model_class()
        if model is None or not site.is_registered(model):
            return ""
    try:
        return reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[row.object_id])
    except NoReverseMatch:
        return ""


def clipped(text: str, css_class: str = "order-mail-clip") -> str:
    """``text`` in a cell that cuts it with an ellipsis; whole on hover."""
    if not text:
        return "–"
    return format_html('<span class="{}" title="{}">{}</span>', css_class, text, text)


class LargeLogPaginator(Paginator):
    """Counts that stay cheap at millions of rows.

    ``SELECT COUNT(*)`` reads every matching row and is the slowest part of
    the page on a large log. The unfiltered list uses PostgreSQL's row
    estimate once the table is large; a filtered or searched list counts at
    most ``COUNT_CAP + 1`` rows (``SELECT COUNT(*) FROM (... LIMIT n)``) and
    says "more than 10,000". Nobody pages that far; they filter.
    """

    ESTIMATE_ABOVE = 100_000
    COUNT_CAP = 10_000

    #: "" (exact), "estimate" or "capped": the pagination template says so.
    count_note = ""

    @cached_property
    def count(self):
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        connection = connections[qs.db]
        if not qs.query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [qs.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] >= self.ESTIMATE_ABOVE:
                self.count_note = "estimate"
                return int(row[0])
        counted = qs.order_by()[: self.COUNT_CAP + 1].count()
        if counted > self.COUNT_CAP:
            self.count_note = "capped"
        return counted


class ChannelFilter(admin.SimpleListFilter):
    """Channels from the settings, not ``SELECT DISTINCT`` over the whole log."""

    title = _("sales channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        names = [*DEFAULT_CHANNELS, *app_settings.CHANNELS]
        return [(name, name) for name in dict.fromkeys(names)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(channel=value) if value else queryset


_DELIVERY_COLOURS = {
    DeliveryStatus.DELIVERED: "#15803d",
    DeliveryStatus.DEFERRED: "#a16207",
}


#: Django admin's own words for a row's checkbox, translated by Django's
#: catalogue (a name, not a literal, so that ``makemessages`` leaves it
#: out of this app's).
DJANGO_ROW_CHECKBOX_LABEL = "Select this object for an action - {}"


class SendLogColumns:
    """The list's cells, mixed into the send log's ModelAdmin."""

    def action_checkbox(self, obj):
        """The row's checkbox for the actions, the same HTML as Django's own
        ``ModelAdmin.action_checkbox`` (a test compares them) without a
        form widget rendered through the template engine for each row:
        with it, 50 checkboxes were a fifth of the page's time
        (``docs/performance.md``, *Growth*)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext(DJANGO_ROW_CHECKBOX_LABEL), str(obj)),
        )

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description=_("event"), ordering="event")
    def event_label(self, obj):
        # Not the field itself: the admin would build the dict of every
        # registered event's label for each row (a callable ``choices``).
        return obj.event_label

    @admin.display(description=_("order"), ordering="reference")
    def order_link(self, obj):
        label = obj.reference or obj.object_id
        url = order_admin_url(obj, self.admin_site) if not obj.is_test else ""
        order = format_html('<a href="{}">{}</a>', url, label) if url else label
        if not obj.channel:
            return order
        return format_html(
            '{}<span class="order-mail-muted" title="{}">{}</span>',
            order,
            gettext("sales channel"),
            obj.channel,
        )

    @admin.display(description=_("customer"), ordering="recipient")
    def customer(self, obj):
        name = obj.customer_name.strip()
        address = obj.recipient or "–"
        if not name:
            return clipped(address)
        return format_html(
            '<span class="order-mail-clip" title="{}">{}</span>'
            '<span class="order-mail-clip order-mail-muted" title="{}">{}</span>',
            name,
            name,
            address,
            address,
        )

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return short_time(obj.created_at)

    @admin.display(description=_("delivery"), ordering="delivery_status")
    def delivery(self, obj):
        if not obj.delivery_status:
            return "–"
        colour = "#b91c1c" if obj.delivery_status in TERMINAL else _DELIVERY_COLOURS.get(obj.delivery_status)
        when = short_time(obj.delivered_at or obj.delivery_status_at)
        return format_html(
            '<span title="{}" style="color:{}">{}</span>',
            when,
            colour or "inherit",
            obj.get_delivery_status_display(),
        )

    @admin.display(description=_("opens"), ordering="open_count")
    def opens(self, obj):
        if not obj.open_count:
            return "–"
        return format_html(
            '<span title="{}">{}</span>',
            gettext("first opened %(when)s") % {"when": short_time(obj.opened_at)},
            obj.open_count,
        )

    @admin.display(description=_("clicks"), ordering="click_count")
    def clicks(self, obj):
        if not obj.click_count:
            return "–"
        return format_html(
            '<span title="{}">{}</span>',
            gettext("first clicked %(when)s") % {"when": short_time(obj.clicked_at)},
            obj.click_count,
        )

    @admin.display(description=_("reason"))
    def short_error(self, obj):
        return clipped(obj.last_error) if obj.last_error else ""
