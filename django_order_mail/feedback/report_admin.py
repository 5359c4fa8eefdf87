"""The CSAT/NPS report page of the survey responses' admin: a period and
a sales channel, the summary and the weekly trend (:mod:`.stats`, drawn by
:mod:`.charts`). A mixin of :class:`.response_admin.SurveyResponseAdmin`,
which adds its URL; the follow-up queue leaves it out.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import stats
from .charts import line_chart
from .models import SurveyResponse

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


class FeedbackReportMixin:
    """``report/`` beside the model admin's own pages (view permission)."""

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


def _follow_up_url() -> str:
    try:
        return reverse("admin:order_mail_feedback_followup_changelist")
    except NoReverseMatch:
        return ""
