"""The feedback schedule staff edit in the admin (request delay, review
reminder), and the follow-up queue's customer columns."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.feedback.events import feedback_delay_days
from django_order_mail.feedback.models import FeedbackSchedule, SurveyResponse
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.policies.models import SettingChange
from django_order_mail.reviews.reminders import reminder_delay_days
from tests.factories import OrderFactory
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

ADD = "admin:order_mail_feedback_feedbackschedule_add"
CHANGE = "admin:order_mail_feedback_feedbackschedule_change"
QUEUE = "admin:order_mail_feedback_followup_changelist"


def delivered(order):
    order.confirm_payment()
    order.save()
    order.ship(order.add_shipment("ups", "1Z9"))
    order.save()
    order.mark_delivered()
    order.save()
    return OutboxEmail.for_order(order).get(event="feedback_request")


def test_without_a_record_the_settings_apply(mail_settings):
    assert feedback_delay_days("web") == 7
    mail_settings(FEEDBACK_DELAY_DAYS=3, REVIEWS_REMINDER_DELAY_DAYS=None)
    assert feedback_delay_days("web") == 3
    assert reminder_delay_days() is None


def test_the_saved_delay_applies_to_orders_delivered_after_it(broker):
    before = delivered(OrderFactory())
    FeedbackSchedule.objects.create(pk=1, delay_days=12, reminder_delay_days=None)
    after = delivered(OrderFactory())
    before.refresh_from_db()
    # The request written before keeps its time; the new one waits 12 days.
    assert abs(before.send_after - (before.created_at + timedelta(days=7))) < timedelta(seconds=5)
    assert abs(after.send_after - (after.created_at + timedelta(days=12))) < timedelta(seconds=5)
    assert reminder_delay_days() is None


def test_a_channels_own_delay_still_wins(mail_settings):
    mail_settings(CHANNELS={"ebay": {"feedback_delay_days": 3}})
    FeedbackSchedule.objects.create(pk=1, delay_days=12)
    assert feedback_delay_days("ebay") == 3
    assert feedback_delay_days("web") == 12


def test_the_page_starts_from_the_settings_and_logs_what_staff_change(admin_client, mail_settings):
    mail_settings(FEEDBACK_DELAY_DAYS=5, REVIEWS_REMINDER_DELAY_DAYS=4)
    page = admin_client.get(reverse(ADD)).content.decode()
    assert 'name="delay_days" value="5"' in page and 'name="reminder_delay_days" value="4"' in page
    assert not FeedbackSchedule.objects.exists()
    response = admin_client.post(reverse(ADD), {"delay_days": "10", "reminder_delay_days": "4"})
    assert response.status_code == 302
    [change] = SettingChange.objects.all()
    assert (change.field, change.old_value, change.new_value) == ("delay_days", "5", "10")
    assert (feedback_delay_days("web"), reminder_delay_days()) == (10, 4)
    admin_client.post(reverse(CHANGE, args=[1]), {"delay_days": "10", "reminder_delay_days": ""})
    latest = SettingChange.objects.get(field="reminder_delay_days")
    assert (latest.old_value, latest.new_value) == ("4", "–")
    assert reminder_delay_days() is None


def test_the_delay_must_fit_the_review_window_of_the_shops_channels(admin_client, mail_settings):
    mail_settings(CHANNELS={"amazon_fbm": {"feedback_delay_days": None}}, DEFAULT_CHANNEL="amazon_fbm")
    page = admin_client.post(reverse(ADD), {"delay_days": "40", "reminder_delay_days": "7"}).content.decode()
    assert "allows review requests only 5 to 30 days after delivery." in page
    assert not FeedbackSchedule.objects.exists()


def test_bad_values_are_refused(admin_client):
    page = admin_client.post(reverse(ADD), {"delay_days": "400", "reminder_delay_days": "0"}).content.decode()
    assert "Enter at most 365 days." in page
    assert "Enter at least one day, or leave it empty for no reminder." in page


def test_the_review_reminder_follows_the_saved_delay(broker, esp, mail_settings, monkeypatch):
    """The product-review app reads the reminder's delay from this page."""
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)
    line = {
        "name": "Mug",
        "sku": "MUG-9",
        "quantity": 1,
        "unit_price": Decimal("9.90"),
        "total": Decimal("9.90"),
    }
    monkeypatch.setattr(Order, "get_mail_line_items", lambda self: [dict(line)])
    FeedbackSchedule.objects.create(pk=1, delay_days=7, reminder_delay_days=3)
    order = OrderFactory(customer_name="Tina", email="tina@example.com")
    with transaction.atomic():
        [request] = enqueue(order, [PendingMail("feedback_request")])
    assert deliver(request.pk) == Status.SENT
    reminder = OutboxEmail.for_order(order).get(event="review_reminder")
    assert abs(reminder.send_after - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)


# -- the follow-up queue -----------------------------------------------------------------------------------


def complaint(name: str, email: str) -> SurveyResponse:
    order = OrderFactory(customer_name=name, email=email)
    row = OutboxEmail.objects.create(
        idempotency_key=f"fb-{order.pk}",
        event="feedback_request",
        status=Status.SENT,
        content_type=ContentType.objects.get_for_model(order),
        object_id=str(order.pk),
        recipient=email,
    )
    return SurveyResponse.objects.create(
        content_type=ContentType.objects.get_for_model(order),
        object_id=str(order.pk),
        reference=order.number,
        score=1,
        is_low=True,
        complaint=True,
        email=row,
    )


def test_the_queue_shows_the_customers_name_and_address(admin_client):
    complaint("Tina <Tester>", "tina@example.com")
    page = admin_client.get(reverse(QUEUE)).content.decode()
    assert "Tina &lt;Tester&gt;" in page
    assert '<a href="mailto:tina@example.com">tina@example.com</a>' in page
    assert "tina@example" in admin_client.get(reverse(QUEUE), {"q": "tina@example"}).content.decode()


def test_the_queue_costs_the_same_queries_for_many_complaints(admin_client):
    complaint("A", "a@example.com")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse(QUEUE))
    for i in range(20):
        complaint(f"Customer {i}", f"c{i}@example.com")
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(reverse(QUEUE)).content.decode()
    assert "Customer 19" in page
    assert len(many) == len(few)
