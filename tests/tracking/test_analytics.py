"""Weekly email analytics, the warnings and the admin page with its SVG charts."""

from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail
from django_order_mail.tracking import analytics
from django_order_mail.tracking.models import TrackingEvent
from tests.tracking_utils import bulk_sent

pytestmark = pytest.mark.django_db

NOW = timezone.now()
_MONDAY = datetime.combine(NOW.date() - timedelta(days=NOW.weekday()), time.min, tzinfo=dt_timezone.utc)
THIS_WEEK = _MONDAY + (NOW - _MONDAY) / 2  # inside the current ISO week, in the past
LAST_WEEK = THIS_WEEK - timedelta(days=7)


def label(moment):
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


def outcomes(rows, *, delivered=0, opened=0, clicked=0, bounced=0, complained=0):
    """Give the first rows delivery outcomes, as the webhooks would."""
    ids = [r.pk for r in rows]
    at = rows[0].sent_at + timedelta(minutes=1)
    OutboxEmail.objects.filter(pk__in=ids[:delivered]).update(delivered_at=at, delivery_status="delivered")
    OutboxEmail.objects.filter(pk__in=ids[:opened]).update(opened_at=at)
    OutboxEmail.objects.filter(pk__in=ids[:clicked]).update(clicked_at=at)
    tail = ids[len(ids) - bounced :] if bounced else []
    OutboxEmail.objects.filter(pk__in=tail).update(delivery_status="bounced")
    OutboxEmail.objects.filter(pk__in=ids[:complained]).update(delivery_status="complained")


@pytest.fixture
def history(order):
    TrackingEvent.objects.create(esp="Postmark", event_id="first", event_type="delivered")  # webhooks work
    confirmations = bulk_sent(order, 200, sent_at=THIS_WEEK, prefix="c")
    outcomes(confirmations, delivered=196, opened=120, clicked=34, bounced=4)  # 2 % bounces: fine
    feedback = bulk_sent(order, 100, event="feedback_request", sent_at=LAST_WEEK, prefix="f")
    outcomes(feedback, delivered=95, opened=30, clicked=5, bounced=5, complained=1)
    # Outside the window, and not sent: not counted.
    bulk_sent(order, 7, sent_at=THIS_WEEK - timedelta(weeks=20), prefix="old")
    OutboxEmail.objects.filter(pk__in=[r.pk for r in bulk_sent(order, 3, prefix="x")]).update(status="failed")
    bulk_sent(order, 4, sent_at=THIS_WEEK, prefix="staff-test", is_test=True)


def test_weekly_counts_and_rates(history):
    data = analytics.weekly_stats(weeks=4, now=NOW)
    assert list(data) == [MailEvent.ORDER_CONFIRMATION, "feedback_request"]
    confirmation = data[MailEvent.ORDER_CONFIRMATION]
    assert [w.label for w in confirmation] == [label(THIS_WEEK - timedelta(weeks=n)) for n in (3, 2, 1, 0)]
    week = confirmation[-1]
    assert (week.sent, week.delivered, week.opened, week.clicked, week.bounced) == (200, 196, 120, 34, 4)
    assert week.open_rate == pytest.approx(120 / 196)
    assert week.click_rate == pytest.approx(34 / 196)
    assert week.bounce_rate == pytest.approx(0.02)
    assert week.warnings == []  # exactly at the limit is not above it
    assert confirmation[0].sent == 0 and confirmation[0].open_rate is None
    feedback = data["feedback_request"][-2]
    assert (feedback.sent, feedback.complained) == (100, 1)
    assert feedback.complaint_rate == pytest.approx(1 / 95)
    assert len(feedback.warnings) == 2
    assert "Complaint rate 1.1 %" in feedback.warnings[0] and "0.10 %" in feedback.warnings[0]
    assert "Bounce rate 5.0 %" in feedback.warnings[1]


def test_event_filter_and_thresholds_from_settings(history, mail_settings):
    mail_settings(BOUNCE_RATE_WARNING=0.01, COMPLAINT_RATE_WARNING=0.5)
    data = analytics.weekly_stats(weeks=2, event=MailEvent.ORDER_CONFIRMATION, now=NOW)
    assert list(data) == [MailEvent.ORDER_CONFIRMATION]
    assert len(data[MailEvent.ORDER_CONFIRMATION][-1].warnings) == 1


def test_chart_geometry_stays_inside_the_plot(history):
    stats = analytics.weekly_stats(weeks=4, now=NOW)["feedback_request"]
    engagement, problems = analytics.charts_for("feedback_request", stats)
    for chart in (engagement, problems):
        for series in chart["series"]:
            assert len(series.points) == 1  # only the week something was sent
            for point in series.points:
                assert chart["left"] <= point["x"] <= chart["right"]
                assert 0 <= point["y"] <= chart["bottom"]
    assert [line["label"].split()[-2] for line in problems["thresholds"]] == ["2.0", "0.10"]
    assert analytics.percent(None) == "–" and analytics.percent(0.0012) == "0.12 %"


# -- the admin page ------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "boss@shop.example", "pw"))
    return client


URL = "/admin/order_mail_tracking/emailanalytics/"


def test_analytics_page_renders_charts_tables_and_warnings(staff_client, history):
    response = staff_client.get(URL, {"weeks": "4"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('<figure class="om-chart">') == 4  # two charts per email type
    assert page.count('class="om-series"') == 8
    assert label(THIS_WEEK) in page and "61.2 %" in page  # 120 / 196 opens
    assert 'id="order-mail-warnings"' in page and "Complaint rate 1.1 %" in page
    assert "om-high" in page
    assert "https://" not in page.split('id="order-mail-analytics"')[1]  # nothing from a CDN


def test_analytics_page_filters_and_tolerates_bad_input(staff_client, history):
    page = staff_client.get(URL, {"event": MailEvent.ORDER_CONFIRMATION, "weeks": "x"}).content.decode()
    assert page.count('<figure class="om-chart">') == 2 and "order-mail-warnings" not in page
    page = staff_client.get(URL, {"event": "<b>zz-marker</b>", "weeks": "999"}).content.decode()
    assert page.count('<figure class="om-chart">') == 4 and "zz-marker" not in page


def test_analytics_page_needs_the_view_permission(client, history):
    user = get_user_model().objects.create_user("clerk", "clerk@shop.example", "pw", is_staff=True)
    client.force_login(user)
    assert client.get(URL).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="view_emailanalytics"))
    assert client.get(URL).status_code == 200


def test_empty_period(staff_client):
    page = staff_client.get(URL).content.decode()
    assert "No email was sent in this period." in page


# -- before any webhook arrived ---------------------------------------------------------------


def test_no_webhook_yet_shows_no_data_instead_of_zero_rates(staff_client, order):
    bulk_sent(order, 12, sent_at=THIS_WEEK, prefix="c")
    page = staff_client.get(URL).content.decode()
    assert 'id="order-mail-no-webhooks"' in page
    assert "No data yet — connect your ESP's webhooks." in page
    assert analytics.SETUP_DOCS_URL in page  # the setup instructions
    section = page.split('id="event-order_confirmation"')[1]
    assert "no data yet" in section and "0.0 %" not in section
    assert '<td class="num">12</td>' in section  # what we sent is still counted
    assert '<figure class="om-chart">' not in page  # no charts of fake 0 % lines


def test_an_email_type_without_delivery_events_shows_no_data_next_to_one_with(staff_client, order):
    TrackingEvent.objects.create(esp="Postmark", event_id="1", event_type="delivered")
    rows = bulk_sent(order, 10, sent_at=THIS_WEEK, prefix="c")
    outcomes(rows, delivered=10, opened=5)
    bulk_sent(order, 4, event="feedback_request", sent_at=THIS_WEEK, prefix="f")
    page = staff_client.get(URL).content.decode()
    assert 'id="order-mail-no-webhooks"' not in page
    sections = page.split('id="event-order_confirmation"')[1]
    confirmation, feedback = sections.split('id="event-feedback_request"')
    assert "50.0 %" in confirmation and "no data yet" not in confirmation  # rates stay as they are
    assert "0.0 %" in confirmation  # a real 0 % (nothing bounced) is still shown
    assert "no data yet" in feedback and "%" not in feedback.split("</table>")[0]
    assert page.count('<figure class="om-chart">') == 2  # only the type with data has charts
    stats = analytics.weekly_stats(weeks=4, now=NOW)
    assert analytics.has_data(stats[MailEvent.ORDER_CONFIRMATION])
    assert not analytics.has_data(stats["feedback_request"])
