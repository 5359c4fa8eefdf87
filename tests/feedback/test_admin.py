"""The responses admin, the CSAT/NPS report and the follow-up queue."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from django_order_mail.feedback import stats
from django_order_mail.feedback.charts import line_chart
from django_order_mail.feedback.models import FollowUpStatus, SurveyResponse
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

XSS = '<script>alert("admin")</script>'
LIST = "admin:order_mail_feedback_surveyresponse_changelist"
QUEUE = "admin:order_mail_feedback_followup_changelist"
REPORT = "admin:order_mail_feedback_surveyresponse_report"


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def response(score, *, scale="csat", comment="", channel="web", when=None, **fields):
    order = OrderFactory(sales_channel=channel)
    low = score <= (2 if scale == "csat" else 6)
    return SurveyResponse.objects.create(
        content_type=ContentType.objects.get_for_model(order),
        object_id=str(order.pk),
        reference=order.number,
        channel=channel,
        scale=scale,
        score=score,
        comment=comment,
        is_low=low,
        created_at=when or timezone.now(),
        **fields,
    )


# -- responses list and change form ------------------------------------------------------------------------


def test_list_shows_score_comment_order_channel_and_escapes_comments(admin_client):
    r = response(2, comment=XSS, channel="aliexpress")
    page = admin_client.get(reverse(LIST)).content.decode()
    assert r.reference in page and "aliexpress" in page
    assert "2</strong>&thinsp;/&thinsp;5" in page
    assert XSS not in page and "&lt;script&gt;alert(&quot;admin&quot;)&lt;/script&gt;" in page
    assert reverse(REPORT) in page


def test_filters_by_scale_channel_and_low_score(admin_client):
    response(5, channel="web", comment="web happy")
    response(1, channel="amazon_fbm", comment="amazon sad")
    page = admin_client.get(reverse(LIST), {"channel": "amazon_fbm", "is_low__exact": "1"}).content.decode()
    assert "amazon sad" in page and "web happy" not in page


def test_change_form_shows_answers_escaped_and_keeps_the_customers_words(admin_client, admin_user):
    r = response(1, comment=XSS, answers={"arrived_on_time": "no", "gone": "<i>x</i>"})
    url = reverse("admin:order_mail_feedback_surveyresponse_change", args=[r.pk])
    page = admin_client.get(url).content.decode()
    assert "Did your order arrive on time?" in page and "<td>No</td>" in page
    assert "<i>x</i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert XSS not in page
    posted = admin_client.post(
        url,
        {
            "follow_up_status": "contacted",
            "assignee": str(admin_user.pk),
            "staff_notes": "Called, sending a new mug",
            "score": "5",
            "comment": "changed by staff",
        },
    )
    assert posted.status_code == 302
    r.refresh_from_db()
    assert (r.follow_up_status, r.assignee, r.staff_notes) == (
        "contacted",
        admin_user,
        "Called, sending a new mug",
    )
    assert (r.score, r.comment) == (1, XSS)


def test_responses_cannot_be_added_by_staff(admin_client):
    assert admin_client.get(reverse("admin:order_mail_feedback_surveyresponse_add")).status_code == 403


# -- follow-up queue ---------------------------------------------------------------------------------------


def test_queue_lists_only_low_scores_open_cases_first(admin_client):
    response(5, comment="happy customer")
    resolved = response(1, comment="resolved case", follow_up_status=FollowUpStatus.RESOLVED)
    new = response(2, comment="new case")
    nps_low = response(4, scale="nps", comment="detractor")
    page = admin_client.get(reverse(QUEUE)).content.decode()
    assert "happy customer" not in page
    assert page.index("new case") < page.index("resolved case")
    assert page.index("detractor") < page.index("resolved case")
    assert {new.pk, resolved.pk, nps_low.pk} <= {int(p) for p in _ids_in(page)}


def _ids_in(page: str) -> list[str]:
    import re

    return re.findall(r'name="_selected_action" value="(\d+)"', page)


def test_queue_actions_assign_and_move_status(admin_client, admin_user):
    a, b = response(1), response(2)
    admin_client.post(reverse(QUEUE), {"action": "assign_to_me", "_selected_action": [a.pk, b.pk]})
    admin_client.post(reverse(QUEUE), {"action": "mark_contacted", "_selected_action": [a.pk]})
    admin_client.post(reverse(QUEUE), {"action": "mark_resolved", "_selected_action": [b.pk]})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.assignee, a.follow_up_status) == (admin_user, FollowUpStatus.CONTACTED)
    assert (b.assignee, b.follow_up_status) == (admin_user, FollowUpStatus.RESOLVED)


def test_assignee_choices_are_staff_only(admin_client):
    get_user_model().objects.create_user("customer-login", password="x")
    r = response(1)
    page = admin_client.get(
        reverse("admin:order_mail_feedback_followup_change", args=[r.pk])
    ).content.decode()
    assert "customer-login" not in page
    assert "admin" in page


# -- report ------------------------------------------------------------------------------------------------


def test_report_gives_csat_and_nps_for_the_chosen_period(admin_client):
    start = date(2025, 3, 3)  # a Monday
    for score in (5, 4, 2):
        response(score, when=at(start + timedelta(days=1)))
    response(1, when=at(start - timedelta(days=1)))  # before the period
    for score in (10, 9, 7, 3):
        response(score, scale="nps", when=at(start + timedelta(days=15)))
    page = admin_client.get(
        reverse(REPORT), {"start": "2025-03-03", "end": "2025-03-23", "channel": ""}
    ).content.decode()
    assert '<span class="big" id="csat-value">66.7&nbsp;%</span>' in page
    assert '<span class="big" id="nps-value">25</span>' in page
    assert page.count('class="feedback-chart"') == 2 and "<circle" in page
    chart = page.split('class="feedback-chart"', 1)[1].split("</svg>")[0]
    assert "<script" not in chart and "<polyline" not in chart  # one week of CSAT: a dot, no line
    assert "No answers in this period" not in page


def test_report_filters_by_channel_and_reports_empty_periods(admin_client):
    response(5, channel="web")
    response(1, channel="aliexpress")
    today = timezone.localdate().isoformat()
    page = admin_client.get(reverse(REPORT), {"start": today, "end": today, "channel": "aliexpress"})
    assert '<span class="big" id="csat-value">0.0&nbsp;%</span>' in page.content.decode()
    empty = admin_client.get(reverse(REPORT), {"start": "2001-01-01", "end": "2001-01-31", "channel": ""})
    assert "No answers in this period." in empty.content.decode()


def test_report_refuses_a_backwards_period_and_shows_the_default(admin_client):
    response(5)
    page = admin_client.get(reverse(REPORT), {"start": "2025-05-01", "end": "2025-04-01"}).content.decode()
    assert "The start date must not be after the end date." in page
    assert '<span class="big" id="csat-value">100.0&nbsp;%</span>' in page  # the last 12 weeks


def test_report_needs_view_permission(client):
    user = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    assert client.get(reverse(REPORT)).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_surveyresponse"))
    assert client.get(reverse(REPORT)).status_code == 200


def test_report_is_only_for_staff(client):
    response = client.get(reverse(REPORT))
    assert response.status_code == 302 and "/login/" in response["Location"]


# -- stats and chart ---------------------------------------------------------------------------------------


def test_weekly_series_has_every_week_and_gaps_stay_empty():
    start = date(2025, 3, 3)
    response(5, when=at(start))
    response(1, when=at(start))
    response(9, scale="nps", when=at(start + timedelta(days=14)))
    weeks = stats.weekly(SurveyResponse.objects.all(), start, start + timedelta(days=20))
    assert [w["week"] for w in weeks] == [start + timedelta(days=7 * i) for i in range(3)]
    assert (weeks[0]["csat"], weeks[0]["csat_count"]) == (50.0, 2)
    assert weeks[1]["csat"] is None and weeks[1]["nps"] is None
    assert (weeks[2]["nps"], weeks[2]["nps_count"]) == (100, 1)


def test_score_formulas():
    assert stats.csat(0, 0) is None and stats.nps(0, 0, 0) is None
    assert stats.csat(3, 2) == 66.7
    assert stats.nps(10, 5, 2) == 30
    assert stats.nps(4, 0, 4) == -100


def test_chart_breaks_the_line_at_empty_weeks():
    weeks = [date(2025, 3, 3) + timedelta(days=7 * i) for i in range(5)]
    values = [50, 60, None, 70, 80]
    svg = str(
        line_chart(
            [{"week": w, "value": v, "count": 1} for w, v in zip(weeks, values, strict=True)],
            y_min=0,
            y_max=100,
            title="CSAT <per> week",
        )
    )
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4
    assert "CSAT &lt;per&gt; week" in svg
    empty = str(line_chart([{"week": weeks[0], "value": None, "count": 0}], y_min=0, y_max=100, title="t"))
    assert "No answers in this period" in empty


def test_nps_answers_from_the_rating_links_make_the_weekly_nps_trend(admin_client, no_broker, mail_settings):
    """Regression guard: NPS answers recorded by clicking the email's links
    (not made by hand) show in the weekly table and chart of the report."""
    from urllib.parse import urlsplit

    from django.db import transaction

    from django_order_mail.outbox.enqueue import PendingMail, enqueue
    from django_order_mail.rendering.links import feedback_url

    mail_settings(FEEDBACK_SCALE="nps", FEEDBACK_RATE_LIMIT={"token": None, "ip": None, "window": 60})
    start = date(2025, 3, 3)  # a Monday
    for week, scores in enumerate([(10, 9, 3), (6, 8)]):
        for score in scores:
            with transaction.atomic():
                [row] = enqueue(OrderFactory(), [PendingMail("feedback_request")])
            parts = urlsplit(feedback_url(row.pk, score, "nps"))
            admin_client.get(f"{parts.path}?{parts.query}")
            SurveyResponse.objects.filter(email=row).update(
                created_at=at(start + timedelta(days=7 * week + 2))
            )
    assert set(SurveyResponse.objects.values_list("scale", flat=True)) == {"nps"}
    page = admin_client.get(reverse(REPORT), {"start": "2025-03-03", "end": "2025-03-16"}).content.decode()
    weeks = page.split('<table class="weeks">', 1)[1].split("</table>", 1)[0]
    cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>.*?</td>", weeks)]
    assert cells[1:5] == ["–", "0", "33", "3"] and cells[6:10] == ["–", "0", "-50", "2"]
    assert '<span class="big" id="nps-value">0</span>' in page
    nps_chart = page.split("NPS per week</h2>", 1)[1].split("</svg>", 1)[0]
    assert nps_chart.count("<circle") == 2 and "<polyline" in nps_chart
