"""The send log in the Django admin: every outbox row, read-only, with its
status timeline, the email as it was sent, and the staff actions resend,
retry and cancel (guarded by ``django_order_mail.resend_outboxemail``).

Built for a log of millions of rows: no full ``COUNT(*)`` of the table
(``show_full_result_count = False`` and :class:`LargeLogPaginator`), no
``SELECT DISTINCT`` for the channel filter, exact-match search only (each
term hits an index), the large body columns deferred in the list, and no
per-row queries. ``bench/admin_changelist.py`` measures it.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..app_settings import app_settings
from ..events import DEFAULT_CHANNELS
from ..outbox import actions
from ..outbox.models import EmailLog, OutboxEmail, Status
from .data_requests import data_request_urls

RESEND_PERMISSION = "django_order_mail.resend_outboxemail"

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
        row.get_status_display(),
    )
    if row.is_test:
        badge = format_html(
            '{} <span style="border:1px solid #6b7280;padding:1px 6px;border-radius:10px">{}</span>',
            badge,
            gettext("test"),
        )
    return badge


def can_resend(request) -> bool:
    return request.user.has_perm(RESEND_PERMISSION)


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


class EmailLogInline(admin.TabularInline):
    """The row's status timeline, oldest first."""

    model = EmailLog
    extra = 0
    can_delete = False
    fields = ("created_at", "status", "message")
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _short_time(value) -> str:
    """A compact local time for list columns (the detail page has the full one)."""
    if value is None:
        return "–"
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def order_admin_url(row: OutboxEmail) -> str:
    """The shop's admin page of the row's order, or "" if it has none."""
    ct = ContentType.objects.get_for_id(row.content_type_id)  # cached: no query per row
    try:
        return reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[row.object_id])
    except NoReverseMatch:
        return ""


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    change_form_template = "admin/django_order_mail/outboxemail/change_form.html"
    list_display = (
        "id",
        "status_badge",
        "event",
        "order_link",
        "recipient",
        "channel",
        "attempts",
        "esp_message_id",
        "created",
        "sent",
        "short_error",
    )
    list_display_links = ("id", "status_badge")
    list_filter = ("status", "event", ChannelFilter, "created_at", "is_test")
    search_fields = ("=reference",)  # the real search is get_search_results()
    search_help_text = _("Exact order number, email address, ESP message id or email id.")
    show_full_result_count = False  # no second COUNT(*) of the whole log
    show_facets = admin.ShowFacets.NEVER  # a COUNT per filter choice: seconds at millions of rows
    paginator = LargeLogPaginator
    list_per_page = 50
    inlines = [EmailLogInline]
    actions = ["resend_emails", "retry_emails", "cancel_emails"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status_badge",
                    "event",
                    "order_link",
                    "recipient",
                    "channel",
                    "language",
                    "subject",
                    "attempts",
                    "last_error",
                    "esp_message_id",
                    "related_emails",
                )
            },
        ),
        (_("As sent"), {"fields": ("as_sent",)}),
        (
            _("Times"),
            {"fields": ("created_at", "send_after", "enqueued_at", "claimed_at", "sent_at", "updated_at")},
        ),
        (
            _("Technical details"),
            {"classes": ("collapse",), "fields": ("idempotency_key", "content_type", "object_id", "extra")},
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in OutboxEmail._meta.fields] + [
            "status_badge",
            "order_link",
            "as_sent",
            "related_emails",
        ]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "django_order_mail_outboxemail_changelist":
            # A page of 50 rows must not drag 50 rendered emails along.
            qs = qs.defer("body_html", "body_text")
        return qs

    def get_search_results(self, request, queryset, search_term):
        """Exact matches on indexed columns only: a ``LIKE '%x%'`` over the
        whole log would read every row."""
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q(reference=term) | Q(esp_message_id=term)
        if "@" in term:
            condition |= Q(recipient=term) | Q(recipient=term.lower())
        if term.isdigit():
            condition |= Q(pk=int(term))
        return queryset.filter(condition), False

    # -- columns ------------------------------------------------------------
    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj):
        return status_badge(obj)

    @admin.display(description=_("order"), ordering="reference")
    def order_link(self, obj):
        label = obj.reference or obj.object_id
        url = order_admin_url(obj) if not obj.is_test else ""
        return format_html('<a href="{}">{}</a>', url, label) if url else label

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return _short_time(obj.created_at)

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent(self, obj):
        return _short_time(obj.sent_at)

    @admin.display(description=_("reason"))
    def short_error(self, obj):
        text = obj.last_error or ""
        if len(text) <= 48:
            return text
        return format_html('<span title="{}">{}…</span>', text, text[:47])

    @admin.display(description=_("email as sent"))
    def as_sent(self, obj):
        if not (obj.body_html or obj.body_text):
            return gettext("Not sent yet: the email is rendered when it is sent.")
        return format_html(
            '<div class="order-mail-as-sent">'
            '<iframe title="{}" sandbox="" referrerpolicy="no-referrer" srcdoc="{}" '
            'style="width:680px;max-width:100%;height:640px;border:1px solid #d1d5db;background:#fff">'
            "</iframe>"
            '<details><summary>{}</summary><pre style="white-space:pre-wrap">{}</pre></details></div>',
            gettext("HTML part"),
            obj.body_html or "",
            gettext("Plain-text part"),
            obj.body_text,
        )

    @admin.display(description=_("related emails"))
    def related_emails(self, obj):
        rows = []
        if obj.resend_of_id:
            rows.append((gettext("resend of"), obj.resend_of_id))
        rows += [(gettext("resent as"), pk) for pk in obj.resends.values_list("pk", flat=True)]
        if not rows:
            return "—"
        return format_html_join(
            mark_safe("<br>"),  # a constant
            '{} <a href="{}">#{}</a>',
            (
                (label, reverse("admin:django_order_mail_outboxemail_change", args=[pk]), pk)
                for label, pk in rows
            ),
        )

    # -- permissions: rows are written by the app, never by hand -------------
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Read-only; viewing needs only the view permission.
        return False

    def has_resend_permission(self, request):
        return can_resend(request)

    # -- list actions ----------------------------------------------------------
    def _act(self, request, queryset, func):
        user = request.user.get_username()
        return sum(1 for row in queryset if func(row, by=user))

    @admin.action(description=_("Resend selected emails"), permissions=["resend"])
    def resend_emails(self, request, queryset):
        user = request.user.get_username()
        copies = [actions.resend(row, by=user) for row in queryset]
        n = len(copies)
        self.message_user(
            request, ngettext("%(n)d email queued again.", "%(n)d emails queued again.", n) % {"n": n}
        )
        for copy in copies:  # say which of them will not reach the customer, and why
            self.warn_if_stopped(request, copy)

    def warn_if_stopped(self, request, copy: OutboxEmail) -> bool:
        """A warning if the sender will stop ``copy`` (suppressed, no valid
        recipient); True if it did warn."""
        why = actions.send_outlook(copy)
        if why:
            self.message_user(
                request,
                gettext("Queued again as email #%(pk)d, but it will not be sent: %(reason)s.")
                % {"pk": copy.pk, "reason": why},
                messages.WARNING,
            )
        return bool(why)

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

    # -- one-row buttons on the detail page ------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/<str:what>/do/",
                view(require_POST(self.row_action_view)),
                name="django_order_mail_outboxemail_act",
            ),
            *data_request_urls(self),  # export and erasure: admin/data_requests.py
            *super().get_urls(),
        ]

    def row_action_view(self, request, pk, what):
        if not (self.has_view_permission(request) and can_resend(request)):
            raise PermissionDenied
        row = get_object_or_404(OutboxEmail, pk=pk)
        user = request.user.get_username()
        detail = "admin:django_order_mail_outboxemail_change"
        if what == "resend":
            copy = actions.resend(row, by=user)
            if not self.warn_if_stopped(request, copy):
                self.message_user(
                    request, gettext("Queued again as email #%(pk)d.") % {"pk": copy.pk}, messages.SUCCESS
                )
            return redirect(detail, copy.pk)
        if what == "retry":
            done = actions.retry(row, by=user)
            text = (
                gettext("Queued for another try.") if done else gettext("Only a failed email can be retried.")
            )
        elif what == "cancel":
            done = actions.cancel(row, by=user)
            text = gettext("Cancelled.") if done else gettext("Only an email not sent yet can be cancelled.")
        else:
            raise PermissionDenied
        self.message_user(request, text, messages.SUCCESS if done else messages.WARNING)
        return redirect(detail, row.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_resend": can_resend(request)}
        return super().change_view(request, object_id, form_url, extra_context)
