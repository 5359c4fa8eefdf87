"""Survey responses, the CSAT/NPS report and the low-score follow-up queue.

Registered from ``OrderMailConfig.ready()``. What the customer wrote is
read-only (staff work on status, assignee and notes) and always escaped:
plain strings in ``list_display`` and ``readonly_fields`` are escaped by
Django, and the few HTML snippets here are built with ``format_html``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from . import (
    schedule_admin,  # noqa: F401 - registers the feedback schedule page
    stats,
)
from .charts import line_chart
from .context import answers_display
from .models import FollowUp, FollowUpStatus, SurveyAnswer, SurveyResponse

MAX_REPORT_DAYS = 3 * 366
DEFAULT_REPORT_WEEKS = 12


class ReportForm(forms.Form):
    # "period": the email preview uses "From"/"To" for sender and recipient.
    start = forms.DateField(
        label=pgettext_lazy("period", "From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=pgettext_lazy("period", "To"), widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(label=_("Sales channel"), required=False)

    def __init__(self, *args, channels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("All channels")), *((c, c) for c in channels)]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date must not be after the end date."))
            if (end - start).days > MAX_REPORT_DAYS:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data


class SurveyResponseAdmin(admin.ModelAdmin):
    list_display: tuple[str, ...] = (
        "created_at",
        "score_badge",
        "comment_excerpt",
        "order_reference",
        "channel",
        "follow_up_status",
        "assignee",
    )
    list_display_links = ("created_at",)
    # Annotated wider than the literals, so FollowUpAdmin can set its own.
    list_filter: ClassVar[tuple[str, ...]] = (
        "scale",
        "score",
        "is_low",
        "complaint",
        "follow_up_status",
        "channel",
    )
    date_hierarchy = "created_at"
    search_fields: ClassVar[tuple[str, ...]] = ("reference", "comment")
    list_select_related: ClassVar[tuple[str, ...]] = ("assignee", "content_type")
    change_list_template: ClassVar[str | None] = "django_order_mail/feedback/admin/response_change_list.html"
    fieldsets = (
        (
            _("What the customer answered"),
            {
                "fields": (
                    "order_reference",
                    "channel",
                    "language",
                    "score_badge",
                    "comment_text",
                    "answers_table",
                    "created_at",
                    "updated_at",
                    "email_link",
                    "answer_history",
                )
            },
        ),
        (_("Follow-up"), {"fields": ("follow_up_status", "assignee", "staff_notes")}),
    )
    readonly_fields = (
        "order_reference",
        "channel",
        "language",
        "score_badge",
        "comment_text",
        "answers_table",
        "created_at",
        "updated_at",
        "email_link",
        "answer_history",
    )

    def has_add_permission(self, request):
        return False  # responses come from customers only

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            # Staff only: a shop's user table may hold every customer too.
            kwargs["queryset"] = get_user_model()._default_manager.filter(is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "assignee" and hasattr(field.widget, "can_add_related"):
            # Pick a colleague; adding or editing users belongs elsewhere.
            widget = field.widget
            widget.can_add_related = widget.can_change_related = False
            widget.can_delete_related = widget.can_view_related = False
        return field

    def get_queryset(self, request):
        # The lowest low score a complaint ever had, for the score column.
        lowest = SurveyAnswer.objects.filter(response=OuterRef("pk"), is_low=True).order_by("score", "id")
        return super().get_queryset(request).annotate(_lowest_low=Subquery(lowest.values("score")[:1]))

    @admin.display(description=_("score"), ordering="score")
    def score_badge(self, obj):
        badge = _score_html(obj.score, obj.scale_max, obj.is_low)
        lowest = getattr(obj, "_lowest_low", None)
        if obj.complaint and not obj.is_low and lowest is not None:
            # Raised since: the complaint is why it stays in the queue.
            was = gettext("was %(score)s/%(max)s") % {"score": lowest, "max": obj.scale_max}
            return format_html('{} <small style="color:#b91c1c">({})</small>', badge, was)
        return badge

    @admin.display(description=_("comment"))
    def comment_excerpt(self, obj):
        return Truncator(obj.comment).chars(80) if obj.comment else "—"

    @admin.display(description=_("comment"))
    def comment_text(self, obj):
        if not obj.comment:
            return "—"
        return format_html('<div style="white-space:pre-wrap;max-width:60em">{}</div>', obj.comment)

    @admin.display(description=_("answers"))
    def answers_table(self, obj):
        answers = answers_display(obj.answers)
        if not answers:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "", "<tr><th>{}</th><td>{}</td></tr>", ((a["question"], a["answer"]) for a in answers)
            ),
        )

    @admin.display(description=_("answer history"))
    def answer_history(self, obj):
        """Every recorded state of the response, oldest first: what the
        customer answered before a later click or post changed it."""
        entries = list(obj.history.all()) if obj.pk else []
        if not entries:
            return "—"
        field = SurveyAnswer._meta.get_field
        head = format_html_join(
            "",
            "<th>{}</th>",
            (
                (capfirst(field(name).verbose_name),)
                for name in ("recorded_at", "via", "score", "comment", "answers")
            ),
        )
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td style="white-space:pre-wrap">{}</td><td>{}</td></tr>',
            (
                (
                    date_format(timezone.localtime(entry.recorded_at), "DATETIME_FORMAT"),
                    entry.get_via_display() or "—",
                    _score_html(entry.score, entry.scale_max, entry.is_low),
                    entry.comment or "—",
                    "; ".join(f"{a['question']}: {a['answer']}" for a in answers_display(entry.answers))
                    or "—",
                )
                for entry in entries
            ),
        )
        return format_html('<table class="answer-history"><tr>{}</tr>{}</table>', head, rows)

    @admin.display(description=_("order"), ordering="reference")
    def order_reference(self, obj):
        label = obj.reference or obj.object_id
        ct = obj.content_type
        try:
            url = reverse(f"admin:{ct.app_label}_{ct.model}_change", args=[obj.object_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("feedback email"))
    def email_link(self, obj):
        if obj.email_id is None:
            return "—"
        try:
            url = reverse("admin:django_order_mail_outboxemail_change", args=[obj.email_id])
        except NoReverseMatch:
            return str(obj.email_id)
        return format_html('<a href="{}">#{}</a>', url, obj.email_id)

    # -- the report ---------------------------------------------------------------------------------------

    def get_urls(self):
        meta = self.model._meta
        return [
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name=f"{meta.app_label}_{meta.model_name}_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request):
        """CSAT and NPS for a chosen period, and their weekly trend."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        default_start = stats.monday(today) - timedelta(weeks=DEFAULT_REPORT_WEEKS - 1)
        channels = sorted(c for c in SurveyResponse.objects.values_list("channel", flat=True).distinct() if c)
        data = request.GET if "start" in request.GET else None
        form = ReportForm(data, channels=channels, initial={"start": default_start, "end": today})
        start, end, channel = default_start, today, ""
        if form.is_bound and form.is_valid():
            start, end, channel = (
                form.cleaned_data["start"],
                form.cleaned_data["end"],
                form.cleaned_data["channel"],
            )
        qs = SurveyResponse.objects.all()
        if channel:
            qs = qs.filter(channel=channel)
        summary = stats.summarize(stats.period_queryset(qs, start, end))
        weeks = stats.weekly(qs, start, end)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Feedback report"),
            "opts": self.model._meta,
            "form": form,
            "start": start,
            "end": end,
            "channel": channel,
            "summary": summary,
            "weeks": weeks,
            "csat_chart": line_chart(
                [{"week": w["week"], "value": w["csat"], "count": w["csat_count"]} for w in weeks],
                y_min=0,
                y_max=100,
                # xgettext:no-python-format
                title=_("CSAT per week (% of answers scoring 4 or 5)"),
            ),
            "nps_chart": line_chart(
                [{"week": w["week"], "value": w["nps"], "count": w["nps_count"]} for w in weeks],
                y_min=-100,
                y_max=100,
                title=_("NPS per week (promoters minus detractors)"),
                color="#7c3aed",
            ),
            "follow_up_url": _follow_up_url(),
        }
        return TemplateResponse(request, "django_order_mail/feedback/admin/report.html", context)


def _score_html(score: int, scale_max: int, low: bool):
    colour = "#b91c1c" if low else "#15803d" if score >= scale_max - 1 else "#374151"
    return format_html('<strong style="color:{}">{}</strong>&thinsp;/&thinsp;{}', colour, score, scale_max)


def _follow_up_url() -> str:
    try:
        return reverse("admin:order_mail_feedback_followup_changelist")
    except NoReverseMatch:
        return ""


class FollowUpAdmin(SurveyResponseAdmin):
    """The complaints (every response that was ever low, whatever its score
    is now): who contacts the customer, and what came of it. A case leaves
    the open part of the queue only when staff resolve it.

    The customer's name and address are on the list, so staff can call or
    write without opening the order: the address the feedback email went
    to (joined), the name from the orders (one query per order model, not
    per row).
    """

    list_display = (
        "created_at",
        "score_badge",
        "comment_excerpt",
        "customer_name",
        "customer_email",
        "order_reference",
        "channel",
        "follow_up_status",
        "assignee",
    )
    list_editable = ("follow_up_status", "assignee")
    list_filter = ("follow_up_status", "assignee", "is_low", "channel", "scale")
    list_select_related = ("assignee", "content_type", "email")
    search_fields = ("reference", "comment", "email__recipient")
    actions = ("assign_to_me", "mark_contacted", "mark_resolved")
    change_list_template = None

    def get_queryset(self, request):
        # Open cases first (new, then contacted), newest first within each.
        rank = Case(
            When(follow_up_status=FollowUpStatus.NEW, then=Value(0)),
            When(follow_up_status=FollowUpStatus.CONTACTED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return (
            super()
            .get_queryset(request)
            .filter(Q(complaint=True) | Q(is_low=True))
            .annotate(_rank=rank)
            .order_by("_rank", "-created_at")
            .prefetch_related("order")
        )

    def get_changelist_formset(self, request, **kwargs):
        formset = super().get_changelist_formset(request, **kwargs)
        # Every row's assignee list is the same: one query for the page, not one per row.
        field = formset.form.base_fields.get("assignee")
        if field is not None:
            field.choices = list(field.choices)
        return formset

    @admin.display(description=_("customer"))
    def customer_name(self, obj):
        order = obj.order
        getter = getattr(order, "get_mail_customer_name", None)
        name = getter() if getter is not None else getattr(order, "customer_name", "")
        return name or "—"

    @admin.display(description=_("email address"), ordering="email__recipient")
    def customer_email(self, obj):
        address = obj.email.recipient if obj.email_id is not None else ""
        if not address and obj.order is not None:
            getter = getattr(obj.order, "get_mail_recipient", None)
            address = getter() if getter is not None else ""
        if not address:
            return "—"
        return format_html('<a href="mailto:{}">{}</a>', address, address)

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)  # the report lives on the responses admin

    def _set(self, request, queryset, message, **fields):
        pks = list(queryset.values_list("pk", flat=True))
        updated = SurveyResponse.objects.filter(pk__in=pks).update(updated_at=timezone.now(), **fields)
        self.message_user(request, message % {"count": updated}, messages.SUCCESS)

    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._set(request, queryset, _("Assigned %(count)d follow-ups to you."), assignee=request.user)

    @admin.action(description=_("Mark as contacted"), permissions=["change"])
    def mark_contacted(self, request, queryset):
        count = queryset.count()
        self._set(
            request,
            queryset,
            ngettext(
                "%(count)d follow-up marked contacted.", "%(count)d follow-ups marked contacted.", count
            ),
            follow_up_status=FollowUpStatus.CONTACTED,
        )

    @admin.action(description=_("Mark as resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset):
        count = queryset.count()
        self._set(
            request,
            queryset,
            ngettext("%(count)d follow-up marked resolved.", "%(count)d follow-ups marked resolved.", count),
            follow_up_status=FollowUpStatus.RESOLVED,
        )


admin.site.register(SurveyResponse, SurveyResponseAdmin)
admin.site.register(FollowUp, FollowUpAdmin)
