"""The feedback app's low-score alert takes its recipients from the staff
notifications: the admin's row wins, FEEDBACK_ALERT_EMAIL stays the default."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.feedback.alerts import SCORE_RAISED, alert_key
from django_order_mail.feedback.recording import record_answer
from django_order_mail.notifications.rows import recipient_key
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status

from .helpers import set_up

pytestmark = pytest.mark.django_db

ALERT = "low_score_alert"


@pytest.fixture
def request_row(order, broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


def alerts():
    return OutboxEmail.objects.filter(event=ALERT).order_by("recipient")


def test_the_admins_recipients_win_over_the_settings(request_row, mail_settings):
    mail_settings(FEEDBACK_ALERT_EMAIL="care@shop.example")
    set_up(ALERT, "quality@shop.example\nowner@shop.example")
    response = record_answer(request_row, score=1, scale="csat")
    rows = list(alerts())
    assert [r.recipient for r in rows] == ["owner@shop.example", "quality@shop.example"]
    assert {r.idempotency_key for r in rows} == {
        recipient_key(alert_key(response), a) for a in ("owner@shop.example", "quality@shop.example")
    }
    assert {r.status for r in rows} == {Status.SCHEDULED}


def test_without_a_row_the_settings_decide_with_the_old_key(request_row, mail_settings):
    mail_settings(FEEDBACK_ALERT_EMAIL="care@shop.example")
    response = record_answer(request_row, score=1, scale="csat")
    [row] = alerts()
    assert (row.recipient, row.idempotency_key) == ("care@shop.example", alert_key(response))


def test_switched_off_in_the_admin_alerts_nobody(request_row):
    set_up(ALERT, "quality@shop.example", enabled=False)
    response = record_answer(request_row, score=1, scale="csat")
    assert response.is_low
    assert not alerts().exists()


def test_every_recipients_alert_follows_the_score(request_row):
    set_up(ALERT, "quality@shop.example\nowner@shop.example")
    record_answer(request_row, score=1, scale="csat")
    record_answer(request_row, score=5, scale="csat")
    assert {(r.status, r.last_error) for r in alerts()} == {(Status.CANCELLED, SCORE_RAISED)}
    record_answer(request_row, score=2, scale="csat")
    assert {r.status for r in alerts()} == {Status.SCHEDULED}
    assert alerts().count() == 2


def test_repeated_answers_and_new_recipients_do_not_double(request_row):
    row = set_up(ALERT, "quality@shop.example")
    record_answer(request_row, score=1, scale="csat")
    row.emails = "quality@shop.example\nnew@shop.example"
    row.save()
    record_answer(request_row, score=2, scale="csat")
    record_answer(request_row, comment="still bad")
    assert list(alerts().values_list("recipient", flat=True)) == ["quality@shop.example"]


def test_an_alert_written_before_the_admin_is_still_the_responses_alert(request_row, mail_settings):
    """Upgrade: a row with the settings' key exists; recipients are then set
    in the admin. The score going up and down again moves that row, and
    writes no second alert."""
    mail_settings(FEEDBACK_ALERT_EMAIL="care@shop.example")
    record_answer(request_row, score=1, scale="csat")
    set_up(ALERT, "quality@shop.example")
    record_answer(request_row, score=5, scale="csat")
    record_answer(request_row, score=1, scale="csat")
    [row] = alerts()
    assert (row.recipient, row.status) == ("care@shop.example", Status.SCHEDULED)


def test_nobody_to_tell_is_skipped_with_a_reason_that_names_the_admin(request_row, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "BRANDING": {"name": "Bare"}}
    record_answer(request_row, score=1, scale="csat")
    [row] = alerts()
    assert row.status == Status.SKIPPED
    assert "Staff notifications" in row.last_error and "FEEDBACK_ALERT_EMAIL" in row.last_error


def test_each_recipient_gets_the_alert(request_row, mail_settings):
    mail_settings(FEEDBACK_ALERT_DELAY=0)
    set_up(ALERT, "quality@shop.example\nowner@shop.example")
    mail.outbox.clear()
    record_answer(request_row, score=1, scale="csat")
    for row in alerts():
        assert deliver(row.pk) == Status.SENT
    assert sorted(m.to[0] for m in mail.outbox) == ["owner@shop.example", "quality@shop.example"]
