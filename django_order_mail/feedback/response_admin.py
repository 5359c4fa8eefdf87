"""Survey responses in the admin: what the customer answered, read-only.

What the customer wrote is read-only (staff work on status, assignee and
notes) and always escaped: plain strings in ``list_display`` and
``readonly_fields`` are escaped by Django, and the few HTML snippets here
are built with ``format_html``. The report page comes from
:mod:`.report_admin`; the follow-up queue (:mod:`.follow_up_admin`) is this
admin narrowed to the complaints.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin.links import email_link, order_link
from .context import answers_display
from .models import SurveyAnswer
from .report_admin import FeedbackReportMixin


class SurveyResponseAdmin(FeedbackReportMixin, admin.ModelAdmin):
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
        return order_link(obj.content_type, obj.object_id, obj.reference)

    @admin.display(description=_("feedback email"))
    def email_link(self, obj):
        return email_link(obj.email_id)


def _score_html(score: int, scale_max: int, low: bool):
    colour = "#b91c1c" if low else "#15803d" if score >= scale_max - 1 else "#374151"
    return format_html('<strong style="color:{}">{}</strong>&thinsp;/&thinsp;{}', colour, score, scale_max)
