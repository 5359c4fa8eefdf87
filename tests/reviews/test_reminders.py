"""The one reminder (never after a review, never after a refund or a
cancellation, at most one) and "Not received yet" (the request is asked
again later, the reminder follows it, staff are told - once)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.render import render_outbox_email
from django_order_mail.rendering.sample import sample_context
from django_order_mail.reviews.models import ProductReview
from tests.factories import OrderFactory
from tests.testapp.models import Order

from .conftest import page_url, request_row, star_url, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_cap(mail_settings):
    """The frequency cap has its own tests; here the emails are days apart."""
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)


def sent_request(order) -> OutboxEmail:
    row = request_row(order)
    assert deliver(row.pk) == Status.SENT
    return row


def reminder_of(order) -> OutboxEmail | None:
    return OutboxEmail.for_order(order).filter(event="review_reminder").first()


def make_due(row: OutboxEmail) -> None:
    OutboxEmail.objects.filter(pk=row.pk).update(
        send_after=timezone.now() - timedelta(seconds=1), status="queued"
    )


def test_the_sent_request_schedules_one_reminder(shop_order, broker, esp):
    row = sent_request(shop_order)
    reminder = reminder_of(shop_order)
    assert reminder.status == Status.SCHEDULED and reminder.extra == {"request": row.pk}
    assert abs(reminder.send_after - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert reminder.recipient == shop_order.email
    make_due(reminder)
    assert deliver(reminder.pk) == Status.SENT
    reminder.refresh_from_db()
    assert reminder.subject == f"A quick question about order {shop_order.number}"
    assert "This is the only reminder we send about it." in reminder.body_text
    assert token_of(star_url(reminder)) != token_of(star_url(row))  # its own row's links


def test_at_most_one_reminder(shop_order, broker, esp):
    sent_request(shop_order)
    first = reminder_of(shop_order)
    make_due(first)
    deliver(first.pk)
    # The request written again ("not received") is sent: no second reminder.
    request_row(shop_order, discriminator="not-received")
    again = OutboxEmail.objects.get(event="feedback_request", idempotency_key__endswith="not-received")
    deliver(again.pk)
    assert OutboxEmail.for_order(shop_order).filter(event="review_reminder").count() == 1


def test_never_after_a_review(client, shop_order, broker, esp):
    row = sent_request(shop_order)
    client.get(star_url(row, product=2, stars=1))  # any product, any rating
    reminder = reminder_of(shop_order)
    make_due(reminder)
    assert deliver(reminder.pk) == Status.CANCELLED
    reminder.refresh_from_db()
    assert reminder.last_error == "the customer already reviewed a product of this order"


def test_no_reminder_is_written_once_reviewed(client, shop_order, broker, esp):
    row = request_row(shop_order)
    client.get(star_url(row, stars=5))
    deliver(row.pk)
    assert reminder_of(shop_order) is None


def test_never_after_a_refund(shop_order, broker, esp):
    sent_request(shop_order)
    reminder = reminder_of(shop_order)
    Order.objects.filter(pk=shop_order.pk).update(state="refunded")
    make_due(reminder)
    assert deliver(reminder.pk) == Status.CANCELLED
    reminder.refresh_from_db()
    assert reminder.last_error == "order is refunded"


def test_never_after_a_partial_refund_or_a_cancellation_email(shop_order, broker, esp):
    sent_request(shop_order)
    reminder = reminder_of(shop_order)
    request_row(shop_order, "refund", extra={"amount": "5.00"})  # the order itself stays delivered
    make_due(reminder)
    assert deliver(reminder.pk) == Status.CANCELLED
    reminder.refresh_from_db()
    assert reminder.last_error == "the order was refunded or cancelled (in part)"


def test_a_refund_cancels_the_waiting_reminder_at_once(items, broker, esp):
    order = OrderFactory(state="delivered")
    sent_request(order)
    order.refund()
    order.save()
    assert reminder_of(order).status == Status.CANCELLED


@pytest.mark.parametrize("channel", ["amazon_fbm", "aliexpress"])
def test_marketplace_orders_get_no_reminder(channel, items, broker, esp):
    order = OrderFactory(sales_channel=channel)
    sent_request(order)
    assert reminder_of(order) is None


def test_no_reminder_when_switched_off(shop_order, broker, esp, mail_settings):
    mail_settings(REVIEWS_REMINDER_DELAY_DAYS=None, COMMERCIAL_FREQUENCY_CAP=None)
    sent_request(shop_order)
    assert reminder_of(shop_order) is None


def test_the_reminder_previews_with_the_sample_order():
    context = sample_context("review_reminder")
    assert len(context["product_reviews"]) == 2


# -- not received yet -------------------------------------------------------------------------------------


def not_received(client, row):
    return client.post(page_url(row).rstrip("/") + "/not-received/")


def test_not_received_asks_again_later_and_tells_staff_once(client, shop_order, broker, esp):
    row = sent_request(shop_order)
    reminder = reminder_of(shop_order)
    response = not_received(client, row)
    assert response.status_code == 200
    assert "We are sorry your order has not arrived yet." in response.content.decode()
    again = OutboxEmail.objects.get(event="feedback_request", idempotency_key__endswith=":not-received")
    assert again.status == Status.SCHEDULED
    assert abs(again.send_after - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    reminder.refresh_from_db()
    assert reminder.send_after > again.send_after + timedelta(days=6)
    alert = OutboxEmail.objects.get(event="review_not_received_alert")
    assert (alert.status, alert.recipient, alert.language) == (Status.QUEUED, "help@shop.example", "en")
    assert ProductReview.objects.count() == 0
    # Again: nothing new, and the page says so.
    second = not_received(client, row)
    assert "We already know" in second.content.decode()
    assert OutboxEmail.for_order(shop_order).count() == 4  # request, reminder, request again, alert
    assert "You told us that your order has not arrived yet." in client.get(page_url(row)).content.decode()

    assert deliver(alert.pk) == Status.SENT
    alert.refresh_from_db()
    assert alert.subject == f"Order {shop_order.number} has not arrived, the customer says"
    assert shop_order.email in alert.body_text and "Asked again on" in alert.body_text


def test_the_request_asked_again_is_dropped_once_reviewed(client, shop_order, broker, esp):
    row = sent_request(shop_order)
    not_received(client, row)
    client.get(star_url(row, stars=4))  # it arrived after all
    again = OutboxEmail.objects.get(event="feedback_request", idempotency_key__endswith=":not-received")
    make_due(again)
    assert deliver(again.pk) == Status.CANCELLED


def test_not_received_needs_post_and_a_valid_link(client, row):
    url = page_url(row).rstrip("/") + "/not-received/"
    assert client.get(url).status_code == 405
    assert client.post(url.replace(token_of(page_url(row)), "forged")).status_code == 400
    assert not OutboxEmail.objects.filter(event="review_not_received_alert").exists()


def test_the_alert_is_skipped_without_a_staff_address(client, row, mail_settings):
    mail_settings(BRANDING={"name": "Shop"}, COMMERCIAL_FREQUENCY_CAP=None)
    not_received(client, row)
    alert = OutboxEmail.objects.get(event="review_not_received_alert")
    assert alert.status == Status.SKIPPED and "REVIEWS_ALERT_EMAIL" in alert.last_error


def test_the_alert_renders_for_staff(client, row, shop_order):
    not_received(client, row)
    alert = OutboxEmail.objects.get(event="review_not_received_alert")
    rendered = render_outbox_email(alert, shop_order)
    assert shop_order.number in rendered.html and "Feedback request sent" in rendered.text


def test_not_received_from_the_reminder_names_the_original_request(client, shop_order, broker, esp):
    row = sent_request(shop_order)
    reminder = reminder_of(shop_order)
    make_due(reminder)
    deliver(reminder.pk)
    not_received(client, reminder)
    alert = OutboxEmail.objects.get(event="review_not_received_alert")
    again = OutboxEmail.objects.get(event="feedback_request", idempotency_key__endswith=":not-received")
    assert alert.extra["request"] == row.pk == again.extra["request"]
    assert alert.extra["rescheduled"] == again.pk
