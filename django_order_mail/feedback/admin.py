"""Survey responses, the CSAT/NPS report and the low-score follow-up queue.

Registered from ``OrderMailConfig.ready()``. The admins live in their own
modules: :mod:`.response_admin` (the responses, read-only),
:mod:`.report_admin` (the report page) and :mod:`.follow_up_admin` (the
queue); :mod:`.schedule_admin` registers the feedback schedule page.
"""

from __future__ import annotations

from django.contrib import admin

from . import schedule_admin  # noqa: F401 - registers the feedback schedule page
from .follow_up_admin import FollowUpAdmin
from .models import FollowUp, SurveyResponse
from .report_admin import ReportForm
from .response_admin import SurveyResponseAdmin

__all__ = ["FollowUpAdmin", "ReportForm", "SurveyResponseAdmin"]

admin.site.register(SurveyResponse, SurveyResponseAdmin)
admin.site.register(FollowUp, FollowUpAdmin)
