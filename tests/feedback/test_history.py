"""A complaint does not fall out of the follow-up queue: every answer is kept
(SurveyAnswer), a response that was ever low stays a complaint until staff
resolve it, and a complaint in words keeps its alert when the score goes up."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.delivery.sweep import dispatch_due
from django_order_mail.feedback.alerts import SCORE_RAISED
from django_order_mail.feedback.models import FollowUpStatus, SurveyAnswer, SurveyResponse
from django_order_mail.feedback.recording import record_answer
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.links import feedback_url

pytestmark = pytest.mark.django_db

QUEUE = "admin:order_mail_feedback_followup_changelist"
XSS = "<script>alert(1)</script> box crushed"


@pytest.fixture
def row(order, broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


def click(row, score):
    parts = urlsplit(feedback_url(row.pk, score, "csat"))
    assert Client().get(f"{parts.path}?{parts.query}").status_code == 200


def post(row, **data):
    token = urlsplit(feedback_url(row.pk, scale="csat")).path.rstrip("/").rsplit("/", 1)[1]
    response = Client().post(reverse("django_order_mail:feedback_answer", kwargs={"token": token}), data)
    assert response.status_code == 302


def alert():
    return OutboxEmail.objects.get(event="low_score_alert")


def queue_ids(admin_client) -> set[int]:
    return {r.pk for r in admin_client.get(reverse(QUEUE)).context["cl"].result_list}


def test_a_complaint_in_words_survives_a_higher_click(row, admin_client):
    click(row, 2)
    post(row, score="2", comment="Box crushed")
    click(row, 4)  # the same email, a later click
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.comment, saved.is_low, saved.complaint) == (4, "Box crushed", False, True)
    history = list(saved.history.values_list("score", "comment", "is_low", "via"))
    assert history == [
        (2, "", True, "click"),
        (2, "Box crushed", True, "form"),
        (4, "Box crushed", False, "click"),
    ]
    assert alert().status == Status.SCHEDULED  # not cancelled: the complaint stands
    assert saved.pk in queue_ids(admin_client)


def test_a_corrected_misclick_cancels_the_alert_but_the_case_stays_in_the_queue(row, admin_client):
    click(row, 1)
    click(row, 5)
    saved = SurveyResponse.objects.get()
    assert (saved.score, saved.is_low, saved.complaint) == (5, False, True)
    assert (alert().status, alert().last_error) == (Status.CANCELLED, SCORE_RAISED)
    assert list(saved.history.values_list("score", flat=True)) == [1, 5]
    assert saved.pk in queue_ids(admin_client)


def test_the_case_closes_only_when_staff_resolve_it_and_a_new_complaint_reopens_it(row, admin_client):
    click(row, 1)
    click(row, 5)
    saved = SurveyResponse.objects.get()
    admin_client.post(reverse(QUEUE), {"action": "mark_resolved", "_selected_action": [saved.pk]})
    saved.refresh_from_db()
    assert saved.follow_up_status == FollowUpStatus.RESOLVED
    click(row, 5)  # the same answer again changes nothing
    saved.refresh_from_db()
    assert saved.follow_up_status == FollowUpStatus.RESOLVED
    click(row, 2)
    saved.refresh_from_db()
    assert (saved.follow_up_status, saved.complaint) == (FollowUpStatus.NEW, True)
    assert saved.history.count() == 3


def test_a_high_score_is_no_complaint(row, admin_client):
    click(row, 4)
    post(row, comment="Lovely socks")
    saved = SurveyResponse.objects.get()
    assert saved.complaint is False and saved.history.count() == 2
    assert saved.pk not in queue_ids(admin_client)


def test_the_response_page_shows_the_history_escaped(row, admin_client):
    click(row, 2)
    post(row, score="2", comment=XSS)
    post(row, score="4", comment="Sorted, thanks")
    saved = SurveyResponse.objects.get()
    for name in ("surveyresponse", "followup"):
        page = admin_client.get(reverse(f"admin:order_mail_feedback_{name}_change", args=[saved.pk]))
        body = page.content.decode()
        assert 'class="answer-history"' in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt; box crushed" in body and "<script>alert(1)" not in body
        assert "Sorted, thanks" in body and "rating link" in body and "survey form" in body
    queue = admin_client.get(reverse(QUEUE)).content.decode()
    assert "was 2/5" in queue


def test_the_alert_names_the_low_score_and_says_it_was_raised(row, order, esp):
    click(row, 2)
    post(row, score="2", comment="Box crushed")
    click(row, 4)
    OutboxEmail.objects.filter(pk=alert().pk).update(send_after=timezone.now() - timedelta(seconds=1))
    dispatch_due()
    assert deliver(alert().pk) == Status.SENT
    [message] = esp.sent
    assert "2/5" in message.subject and order.number in message.subject
    assert f"rated order {order.number} 2 out of 5" in message.body
    assert "They changed the rating to 4 out of 5 later" in message.body
    assert "Box crushed" in message.body


def test_a_response_from_before_the_history_keeps_its_earlier_answer(row, order):
    earlier = timezone.now() - timedelta(days=3)
    old = SurveyResponse.objects.create(
        content_type=ContentType.objects.get_for_model(order),
        object_id=str(order.pk),
        score=1,
        comment="Never arrived",
        is_low=True,
        complaint=True,
        created_at=earlier,
    )
    SurveyResponse.objects.filter(pk=old.pk).update(updated_at=earlier)
    record_answer(row, score=5, scale="csat", comment="", via="form")
    first, second = SurveyAnswer.objects.filter(response=old).order_by("recorded_at", "id")
    assert (first.score, first.comment, first.is_low, first.recorded_at) == (
        1,
        "Never arrived",
        True,
        earlier,
    )
    assert (second.score, second.comment, second.via) == (5, "", "form")
    old.refresh_from_db()
    assert old.complaint is True
