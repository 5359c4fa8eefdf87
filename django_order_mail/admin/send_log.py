"""The send log in the Django admin: every outbox row, read-only, with its
status timeline, the email as it was sent, and the staff actions resend,
retry and cancel (guarded by ``django_order_mail.resend_outboxemail``).

Built for a log of millions of rows: no full ``COUNT(*)`` of the table
(``show_full_result_count = False`` and :class:`LargeLogPaginator`), no
``SELECT DISTINCT`` for the channel filter, a search that every database
index can answer (exact order number, address, ESP message id or email id;
part of a name or address through PostgreSQL trigram indexes,
:mod:`django_order_mail.outbox.search`), the large body columns deferred in
the list, and no per-row queries. ``bench/admin_changelist.py`` measures it.
The list's cells are in :mod:`.send_log_columns`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..outbox import actions, search
from ..outbox.engagement import reported_kinds
from ..outbox.models import EmailLog, OutboxEmail
from .data_requests import data_request_urls
from .send_log_columns import (
    ChannelFilter,
    LargeLogPaginator,
    SendLogColumns,
    order_admin_url,
    short_time,
    status_badge,
)

__all__ = [
    "ChannelFilter",
    "EmailLogInline",
    "LargeLogPaginator",
    "OutboxEmailAdmin",
    "can_resend",
    "order_admin_url",
    "short_time",
    "status_badge",
]

RESEND_PERMISSION = "django_order_mail.resend_outboxemail"


def can_resend(request) -> bool:
    return request.user.has_perm(RESEND_PERMISSION)


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


@admin.register(OutboxEmail)
class OutboxEmailAdmin(SendLogColumns, admin.ModelAdmin):
    change_form_template = "admin/django_order_mail/outboxemail/change_form.html"
    #: Key columns that fit 1366 px beside the filters (the order cell shows
    #: the sales channel under the number); the delivery, opens and clicks
    #: columns follow "created" when an app reports them
    #: (:meth:`get_list_display`). Attempts, ESP message id and the other
    #: times are on the detail page.
    list_display = (
        "id",
        "status_badge",
        "event_label",
        "order_link",
        "customer",
        "created",
        "short_error",
    )
    list_display_links = ("id",)
    list_filter = ("status", "event", ChannelFilter, "created_at", "is_test")
    search_fields = ("=reference",)  # the real search is get_search_results()
    search_help_text = _(
        "Part of the customer's name or email address (3 characters or more), "
        "or the exact order number, ESP message id or email id."
    )
    #: The help under the search box where the database cannot search by
    #: part of a name or address (PostgreSQL without the trigram indexes:
    #: the search stays exact, :func:`..outbox.search.partial_search`).
    exact_search_help_text = _(
        "The exact email address, order number, ESP message id or email id. Part of a name or "
        "address is searched once the database has its search indexes (check django_order_mail.W020)."
    )
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
                    "customer_name",
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

    class Media:
        css = {"all": ["django_order_mail/admin/send_log.css"]}

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        at = columns.index("created") + 1 if "created" in columns else len(columns)
        columns[at:at] = reported_kinds()  # "delivery", "opens", "clicks": cells of the same names
        return columns

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if reported_kinds():  # what the ESP reported, once an app fills it
            fields = ("delivery_status", "delivery_status_at", "delivered_at")
            fields += ("opened_at", "open_count", "clicked_at", "click_count")
            fieldsets.insert(1, (_("After sending"), {"fields": fields}))
        return fieldsets

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

    #: A searched list counts at most this many rows ("more than 1,000
    #: emails"): a common part of an address ("gmail") would otherwise read
    #: 10,000 matching rows just to count them.
    search_count_cap = 1_000

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        if request.GET.get("q", "").strip() and isinstance(paginator, LargeLogPaginator):
            paginator.COUNT_CAP = self.search_count_cap
        return paginator

    def get_changelist_instance(self, request):
        """The search box's help says what the search does on this database."""
        changelist = super().get_changelist_instance(request)
        if not search.partial_search(changelist.root_queryset.db):
            changelist.search_help_text = self.exact_search_help_text
        return changelist

    def get_search_results(self, request, queryset, search_term):
        """Conditions each database index can answer (:mod:`..outbox.search`),
        never Django's default ``LIKE`` over every search field."""
        return search.search(queryset, search_term), False

    # -- the detail page -----------------------------------------------------
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

    def changelist_view(self, request, extra_context=None):
        # The list needs the page's width: on a 1366 px screen the admin's
        # navigation sidebar and the filters would leave the table 700 px.
        # The breadcrumbs still lead back; other pages keep the sidebar.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_resend": can_resend(request)}
        return super().change_view(request, object_id, form_url, extra_context)
