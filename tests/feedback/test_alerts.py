"""Low scores reach staff: the alert row in the score's transaction, its
lifecycle, and its delivery to the support address (never the customer)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.delivery.sweep import dispatch_due
from django_order_mail.feedback.alerts import SCORE_RAISED, alert_key
from django_order_mail.feedback.models import SurveyResponse
from django_order_mail.feedback.recording import record_answer
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(order, broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


def alerts():
    return OutboxEmail.objects.filter(event="low_score_alert")


def make_due(email):
    OutboxEmail.objects.filter(pk=email.pk).update(send_after=timezone.now() - timedelta(seconds=1))


def test_low_score_schedules_one_alert_to_the_support_address(row, order, broker):
    response = record_answer(row, score=1, scale="csat")
    alert = alerts().get()
    assert alert.status == Status.SCHEDULED
    assert alert.recipient == "help@shop.example"
    assert alert.recipient != order.email
    assert alert.extra == {"response": response.pk}
    assert alert.idempotency_key == alert_key(response)
    assert alert.idempotency_key.endswith(f":low_score_alert:-:response-{response.pk}")
    assert alert.object_id == str(order.pk) and alert.reference == order.number
    assert 290 <= (alert.send_after - timezone.now()).total_seconds() <= 300
    assert broker == []  # scheduled: the sweep publishes it when due


def test_alert_row_rolls_back_with_the_score(row):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_answer(row, score=1, scale="csat")
        raise RuntimeError("request failed after the score")
    assert not SurveyResponse.objects.exists()
    assert not alerts().exists()


def test_repeated_low_answers_alert_once(row):
    record_answer(row, score=2, scale="csat")
    record_answer(row, score=1, scale="csat")
    record_answer(row, comment="still bad")
    assert alerts().count() == 1


def test_high_score_does_not_alert(row):
    record_answer(row, score=3, scale="csat")
    record_answer(row, score=7, scale="nps")
    assert not alerts().exists()


def test_without_delay_the_alert_is_queued_and_published_after_commit(
    row, broker, mail_settings, django_capture_on_commit_callbacks
):
    mail_settings(FEEDBACK_ALERT_DELAY=0)
    with django_capture_on_commit_callbacks(execute=True):
        record_answer(row, score=1, scale="csat")
        assert broker == []
    alert = alerts().get()
    assert alert.status == Status.QUEUED
    assert broker == [([alert.pk], None)]


def test_raising_the_score_cancels_the_pending_alert_and_lowering_revives_it(row):
    record_answer(row, score=1, scale="csat")
    record_answer(row, score=5, scale="csat")
    alert = alerts().get()
    assert (alert.status, alert.last_error) == (Status.CANCELLED, SCORE_RAISED)
    record_answer(row, score=2, scale="csat")
    alert.refresh_from_db()
    assert alert.status == Status.SCHEDULED
    assert alerts().count() == 1
    steps = list(EmailLog.objects.filter(email=alert).values_list("status", flat=True))
    assert steps == [Status.CANCELLED, Status.SCHEDULED]


def test_an_alert_already_sent_is_not_sent_again(row, esp):
    record_answer(row, score=1, scale="csat")
    alert = alerts().get()
    make_due(alert)
    dispatch_due()
    assert deliver(alert.pk) == Status.SENT
    record_answer(row, score=5, scale="csat")
    record_answer(row, score=1, scale="csat")
    alert.refresh_from_db()
    assert alert.status == Status.SENT
    assert len(esp.sent) == 1


def test_no_support_address_skips_with_a_reason(row, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "BRANDING": {"name": "Bare"}}
    record_answer(row, score=1, scale="csat")
    alert = alerts().get()
    assert alert.status == Status.SKIPPED
    assert "FEEDBACK_ALERT_EMAIL" in alert.last_error


def test_disabled_alert_event_is_skipped(row, mail_settings):
    mail_settings(DISABLED_EVENTS=["low_score_alert"])
    record_answer(row, score=1, scale="csat")
    assert alerts().get().status == Status.SKIPPED


def test_custom_threshold_and_alert_address(row, mail_settings):
    mail_settings(FEEDBACK_LOW_SCORE={"csat": 3}, FEEDBACK_ALERT_EMAIL="care@shop.example")
    response = record_answer(row, score=3, scale="csat")
    assert response.is_low
    assert alerts().get().recipient == "care@shop.example"


def test_amazon_channel_rules_do_not_block_staff_mail(broker):
    order = OrderFactory(sales_channel="amazon_fbm")
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    record_answer(row, score=1, scale="csat")
    assert alerts().get().status == Status.SCHEDULED


# -- delivery ----------------------------------------------------------------------------------------------


def test_alert_is_sent_to_staff_with_the_latest_comment_escaped(row, order, esp, settings):
    settings.LANGUAGE_CODE = "en"
    record_answer(row, score=1, scale="csat", answers={"arrived_on_time": "no"})
    record_answer(row, comment="<b>Broken</b> & late")  # typed after the click
    alert = alerts().get()
    make_due(alert)
    assert dispatch_due() == [alert.pk]
    assert deliver(alert.pk) == Status.SENT
    [message] = esp.sent
    assert message.to == ["help@shop.example"]
    assert order.email not in message.to
    assert order.number in message.subject and "1/5" in message.subject
    assert "<b>Broken</b> & late" in message.body
    assert "Did your order arrive on time?: No" in message.body
    html = message.alternatives[0][0]
    assert "&lt;b&gt;Broken&lt;/b&gt; &amp; late" in html and "<b>Broken</b>" not in html
    link = re.search(r"/admin/order_mail_feedback/followup/(\d+)/change/", html)
    assert link and int(link.group(1)) == SurveyResponse.objects.get().pk
    assert message.tags[0] == "low_score_alert"


def test_alert_for_a_deleted_response_still_renders(row, esp):
    record_answer(row, score=1, scale="csat")
    alert = alerts().get()
    SurveyResponse.objects.all().delete()
    make_due(alert)
    dispatch_due()
    assert deliver(alert.pk) == Status.SENT
    assert "no longer exists" in esp.sent[0].body


def test_end_to_end_from_delivery_to_staff_alert(client, broker, esp, mail_settings):
    """mark_delivered -> feedback email sent -> customer clicks 1 in it ->
    response + alert -> alert delivered to staff."""
    mail_settings(FEEDBACK_ALERT_DELAY=0)
    order = OrderFactory()
    order.confirm_payment()
    order.save()
    order.ship(order.add_shipment("ups", "1Z9"))
    order.save()
    order.mark_delivered()
    order.save()
    feedback = OutboxEmail.for_order(order).get(event="feedback_request")
    assert feedback.status == Status.SCHEDULED
    make_due(feedback)
    dispatch_due()
    assert deliver(feedback.pk) == Status.SENT
    body = esp.sent[-1].body
    link = re.search(r"1 – Very unhappy: (\S+)", body).group(1)
    parts = urlsplit(link)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 200
    response = SurveyResponse.objects.get()
    assert (response.score, response.email_id, response.order) == (1, feedback.pk, order)
    alert = alerts().get()
    assert alert.status == Status.QUEUED
    assert deliver(alert.pk) == Status.SENT
    assert esp.sent[-1].to == ["help@shop.example"]
