"""*Feedback schedule* in the admin: days after delivery before the feedback
request, and the review reminder after it (``docs/feedback.rst``).

One record, like the branding page: the form starts from
``FEEDBACK_DELAY_DAYS`` and ``REVIEWS_REMINDER_DELAY_DAYS`` until first
saved; every save is logged field by field. The delay is checked against
the review window of each sales channel the project sells on that has no
delay of its own (Amazon allows 5-30 days after delivery).
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..admin.policies import ChangeLoggingMixin, SingletonAdminMixin
from ..conf import get_setting
from ..events import channel_rules
from .app_settings import app_settings
from .events import FEEDBACK_REQUEST
from .models import FeedbackSchedule
from .survey import channel_feedback

REVIEWS_APP = "django_order_mail.reviews"


def reviews_installed() -> bool:
    return apps.is_installed(REVIEWS_APP)


class FeedbackScheduleForm(forms.ModelForm):
    class Meta:
        model = FeedbackSchedule
        fields = ("delay_days", "reminder_delay_days")

    def clean_delay_days(self):
        days = self.cleaned_data["delay_days"]
        project_channels = {*(app_settings.CHANNELS or {}), app_settings.DEFAULT_CHANNEL}
        for name in sorted(project_channels):
            rules = channel_rules(name)
            if not rules.allows(FEEDBACK_REQUEST) or rules.options.get("feedback_delay_days") is not None:
                continue  # no request there, or the channel's own delay applies
            window = channel_feedback(name).window_days
            if window and not (window[0] <= days <= window[1]):
                raise forms.ValidationError(
                    gettext(
                        "Sales channel %(channel)s allows review requests only %(low)s to %(high)s days "
                        "after delivery."
                    )
                    % {"channel": name, "low": window[0], "high": window[1]}
                )
        return days


@admin.register(FeedbackSchedule)
class FeedbackScheduleAdmin(SingletonAdminMixin, ChangeLoggingMixin, admin.ModelAdmin):
    form = FeedbackScheduleForm
    readonly_fields = ("change_history",)
    from_settings_message = _(
        "The feedback schedule comes from the settings; nobody has changed it in the admin yet."
    )

    @property
    def logged_fields(self):
        return ("delay_days", "reminder_delay_days") if reviews_installed() else ("delay_days",)

    def get_fields(self, request, obj=None):
        return (*self.logged_fields, "change_history")

    def initial_from_settings(self) -> dict:
        initial = {"delay_days": app_settings.FEEDBACK_DELAY_DAYS}
        if reviews_installed():
            initial["reminder_delay_days"] = get_setting("REVIEWS_REMINDER_DELAY_DAYS")
        return initial

    def saved_message(self) -> str:
        return gettext(
            "Saved. Orders delivered from now on use this schedule; requests and reminders already "
            "scheduled keep their time."
        )
