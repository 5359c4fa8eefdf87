"""The reviews app's "not received yet" alert and the carrier-tracking app's
stale-parcel digest take their recipients from the staff notifications:
the admin's row wins (one row per recipient), their settings stay the
default (with the key rows written before the admin have)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from django_order_mail.carrier_tracking.stale import write_digest
from django_order_mail.notifications.rows import recipient_key
from django_order_mail.outbox.enqueue import PendingMail, enqueue, idempotency_key
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.reviews.reminders import already_reported, not_received_key, report_not_received
from tests.carrier_tracking.helpers import ship
from tests.factories import OrderFactory

from .helpers import set_up

pytestmark = pytest.mark.django_db

ALERT = "review_not_received_alert"
DIGEST = "stale_shipments_digest"
TEAM = ("care@shop.example", "owner@shop.example")


def rows(event: str):
    return list(OutboxEmail.objects.filter(event=event).order_by("recipient"))


# -- not received yet ------------------------------------------------------------------------------------


@pytest.fixture
def request_row(order, broker):
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail("feedback_request")])
    return row


def test_the_admins_recipients_get_the_alert_one_row_each(request_row, order, mail_settings):
    mail_settings(REVIEWS_ALERT_EMAIL="reviews@shop.example")
    set_up(ALERT, "\n".join(TEAM))
    assert report_not_received(request_row, order) is True
    alerts = rows(ALERT)
    assert [a.recipient for a in alerts] == list(TEAM)  # not the settings' address
    assert {a.idempotency_key for a in alerts} == {recipient_key(not_received_key(order), a) for a in TEAM}
    assert {(a.status, a.language) for a in alerts} == {(Status.QUEUED, "en")}
    assert all(a.extra["request"] == request_row.pk for a in alerts)
    # A second report writes nothing.
    assert already_reported(order)
    assert report_not_received(request_row, order) is False
    assert len(rows(ALERT)) == 2


def test_without_an_admin_row_the_setting_decides_with_the_orders_key(request_row, order, mail_settings):
    mail_settings(REVIEWS_ALERT_EMAIL="reviews@shop.example")
    report_not_received(request_row, order)
    [alert] = rows(ALERT)
    assert (alert.recipient, alert.idempotency_key) == ("reviews@shop.example", not_received_key(order))


def test_switched_off_in_the_admin_nobody_is_told_and_a_second_click_changes_nothing(request_row, order):
    set_up(ALERT, "care@shop.example", enabled=False)
    assert report_not_received(request_row, order) is True
    assert rows(ALERT) == []
    again = OutboxEmail.objects.get(
        idempotency_key=idempotency_key(order, "feedback_request", None, "not-received")
    )
    # The request asked again marks the report: nothing is asked or moved twice.
    assert already_reported(order)
    assert report_not_received(request_row, order, now=timezone.now() + timedelta(days=1)) is False
    assert OutboxEmail.objects.get(pk=again.pk).send_after == again.send_after
    assert OutboxEmail.for_order(order).count() == 2  # the request and the request asked again


def test_nobody_left_to_tell_is_logged_as_skipped(request_row, order, django_user_model):
    gone = django_user_model.objects.create_user("gone", "gone@shop.example", is_staff=True, is_active=False)
    set_up(ALERT, users=[gone])
    report_not_received(request_row, order)
    [alert] = rows(ALERT)
    assert alert.status == Status.SKIPPED and "Staff notifications" in alert.last_error


# -- the stale-parcel digest ------------------------------------------------------------------------------


@pytest.fixture
def stale(broker):
    [shipment] = ship(OrderFactory(), "SILENT0001")
    shipment.shipped_at = timezone.now() - timedelta(days=9)
    shipment.save()
    return shipment


def test_the_digest_goes_to_the_admins_recipients_one_row_each(stale, mail_settings):
    mail_settings(CARRIER_TRACKING_DIGEST_EMAIL="logistics@shop.example")
    set_up(DIGEST, "\n".join(TEAM))
    digest = write_digest()
    digests = rows(DIGEST)
    assert [d.recipient for d in digests] == list(TEAM)
    base = idempotency_key(digest, DIGEST)
    assert {d.idempotency_key for d in digests} == {recipient_key(base, a) for a in TEAM}
    assert {d.status for d in digests} == {Status.QUEUED}
    assert digest.recipient == "care@shop.example, owner@shop.example"
    assert write_digest() is None and len(rows(DIGEST)) == 2  # once a day


def test_without_an_admin_row_the_digest_keeps_its_setting_and_key(stale, mail_settings):
    mail_settings(CARRIER_TRACKING_DIGEST_EMAIL="logistics@shop.example")
    digest = write_digest()
    [row] = rows(DIGEST)
    assert (row.recipient, row.idempotency_key) == ("logistics@shop.example", idempotency_key(digest, DIGEST))


def test_the_digest_switched_off_in_the_admin_writes_no_email(stale):
    set_up(DIGEST, "care@shop.example", enabled=False)
    digest = write_digest()
    assert digest is not None and digest.recipient == ""  # the day is done, nobody is told
    assert rows(DIGEST) == []


def test_the_staff_notifications_page_says_whom_they_reach(admin_client, mail_settings):
    mail_settings(REVIEWS_ALERT_EMAIL="reviews@shop.example")
    set_up(DIGEST, "care@shop.example")
    content = admin_client.get(reverse("admin:django_order_mail_staffnotification_changelist")).content
    text = content.decode()
    alert = text[text.index(f'id="staff-{ALERT}"') :]
    assert "reviews@shop.example" in alert[: alert.index("</tr>")]
    digest = text[text.index(f'id="staff-{DIGEST}"') :]
    assert "care@shop.example" in digest[: digest.index("</tr>")]
