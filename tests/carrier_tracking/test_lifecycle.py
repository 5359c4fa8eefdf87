"""Carrier updates move the parcel and its order through the lifecycle: out
for delivery and delivered through the order's own transitions (with their
emails), never backwards, each event applied once, and two webhooks about
one order at once cannot move it twice."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from django_order_mail.carrier_tracking.models import CarrierEvent, ShipmentTracking
from django_order_mail.events import MailEvent
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.carrier_tracking.helpers import (
    AFTERSHIP_NUMBER,
    aftership_body,
    easypost_body,
    fresh,
    post_aftership,
    post_easypost,
    ship,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def events_of(order) -> list[str]:
    return list(OutboxEmail.for_order(order).order_by("pk").values_list("event", flat=True))


def tracking(order):
    return ShipmentTracking.objects.get(shipment__object_id=str(order.pk))


def test_out_for_delivery_moves_the_order_and_writes_its_email(client, providers, shipped):
    assert post_aftership(client, aftership_body("OutForDelivery")).status_code == 200
    order = fresh(shipped)
    assert order.state == "out_for_delivery"
    row = OutboxEmail.for_order(order).get(event=MailEvent.OUT_FOR_DELIVERY)
    assert row.shipment.tracking_number == AFTERSHIP_NUMBER and row.status == Status.QUEUED
    assert "order mark_out_for_delivery() → out_for_delivery" in CarrierEvent.objects.get().outcome


def test_delivered_marks_the_parcel_and_the_order(client, providers, shipped):
    body = aftership_body("Delivered", checkpoint_time="2026-03-02T14:05:00+01:00")
    assert post_aftership(client, body).status_code == 200
    order = fresh(shipped)
    assert order.state == "delivered"
    [parcel] = order.shipments
    assert parcel.delivered_at.isoformat() == "2026-03-02T13:05:00+00:00"
    # mark_delivered() writes the delivered email and, the feedback app being
    # installed, schedules the feedback request.
    assert events_of(order)[-2:] == [MailEvent.DELIVERED, "feedback_request"]


def test_out_for_delivery_then_delivered_through_easypost(client, providers, broker):
    order = OrderFactory()
    ship(order, "EZ1000000001")
    post_easypost(client, easypost_body("out_for_delivery", "out_for_delivery", number="EZ1000000001"))
    assert fresh(order).state == "out_for_delivery"
    post_easypost(client, easypost_body("delivered", "arrived_at_destination", number="EZ1000000001"))
    assert fresh(order).state == "delivered"


def test_an_order_is_delivered_only_when_every_parcel_is(client, providers, broker):
    order = OrderFactory()
    first, _second = ship(order, "PARCEL0001", "PARCEL0002")
    post_aftership(client, aftership_body("Delivered", number="PARCEL0001"))
    assert fresh(order).state == "shipped"
    first.refresh_from_db()
    assert first.delivered_at is not None
    assert "other parcels of the order are not delivered yet" in CarrierEvent.objects.get().outcome
    post_aftership(client, aftership_body("Delivered", number="PARCEL0002"))
    assert fresh(order).state == "delivered"
    assert events_of(order).count(MailEvent.DELIVERED) == 1


def test_a_transition_the_state_machine_does_not_allow_is_not_forced(client, providers, broker):
    """Out for delivery of the first of two parcels: the order is partially
    shipped, and mark_out_for_delivery() only leaves "shipped"."""
    order = OrderFactory()
    order.confirm_payment()
    order.save()
    parcel = order.add_shipment("dhl", "PARTIAL001")
    order.ship_partially(parcel)
    order.save()
    post_aftership(client, aftership_body("OutForDelivery", number="PARTIAL001"))
    assert fresh(order).state == "partially_shipped"
    assert tracking(order).status == "out_for_delivery"
    assert "mark_out_for_delivery() not allowed" in CarrierEvent.objects.get().outcome
    assert MailEvent.OUT_FOR_DELIVERY not in events_of(order)


# -- never backwards ---------------------------------------------------------------------------------


def test_a_late_in_transit_after_delivered_changes_nothing(client, providers, shipped):
    post_aftership(client, aftership_body("Delivered"))
    emails = events_of(shipped)
    post_aftership(client, aftership_body("InTransit"))
    post_aftership(client, aftership_body("OutForDelivery"))
    post_aftership(client, aftership_body("AttemptFail"))
    assert fresh(shipped).state == "delivered"
    assert tracking(shipped).status == "delivered"
    assert events_of(shipped) == emails
    outcomes = list(CarrierEvent.objects.order_by("pk").values_list("outcome", flat=True))[1:]
    assert all(o.startswith("status stays delivered: the parcel is already delivered") for o in outcomes)


def test_a_late_out_for_delivery_does_not_undo_a_failed_attempt(client, providers, shipped):
    """Same stage: the newer scan wins, whatever order the webhooks come in."""
    post_aftership(client, aftership_body("AttemptFail", checkpoint_time="2026-03-02T15:00:00Z"))
    post_aftership(client, aftership_body("OutForDelivery", checkpoint_time="2026-03-02T08:00:00Z"))
    assert tracking(shipped).status == "attempt_failed"
    assert "an older scan than the attempt_failed one" in CarrierEvent.objects.order_by("-pk")[0].outcome
    # The later scan of the next day moves on.
    post_aftership(client, aftership_body("OutForDelivery", checkpoint_time="2026-03-03T08:00:00Z"))
    assert tracking(shipped).status == "out_for_delivery"


def test_in_transit_does_not_move_an_out_for_delivery_parcel_back(client, providers, shipped):
    post_aftership(client, aftership_body("OutForDelivery", checkpoint_time="2026-03-02T08:00:00Z"))
    post_aftership(client, aftership_body("InTransit", checkpoint_time="2026-03-02T09:00:00Z"))
    assert tracking(shipped).status == "out_for_delivery"
    # ...but its scan is a scan: the parcel is not silent.
    assert tracking(shipped).last_scan_at.isoformat() == "2026-03-02T09:00:00+00:00"
    assert fresh(shipped).state == "out_for_delivery"


def test_a_delivered_after_a_return_is_the_parcel_reaching_the_shop(client, providers, shipped):
    post_aftership(client, aftership_body("Exception", "Exception_011"))
    post_aftership(client, aftership_body("Delivered"))
    assert tracking(shipped).status == "returned_to_sender"
    assert fresh(shipped).state == "shipped"
    assert fresh(shipped).shipments.get().delivered_at is None


# -- idempotent --------------------------------------------------------------------------------------


def test_the_same_event_twice_is_applied_once(client, providers, shipped):
    body = aftership_body("Delivered", event_id="ev-1")
    first = post_aftership(client, body)
    emails = events_of(shipped)
    second = post_aftership(client, body)
    assert first.json()["applied"] == 1 and second.json() == {"received": 1, "applied": 0}
    assert CarrierEvent.objects.count() == 1
    assert events_of(shipped) == emails
    assert fresh(shipped).state == "delivered"


def test_one_event_id_per_provider(client, providers, shipped):
    """The same id from two providers is two events."""
    post_aftership(client, aftership_body("InTransit", event_id="evt_same"))
    post_easypost(client, easypost_body("out_for_delivery", "", number=AFTERSHIP_NUMBER, event_id="evt_same"))
    assert CarrierEvent.objects.count() == 2
    assert fresh(shipped).state == "out_for_delivery"


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_move_the_order_once(providers, broker):
    """Two deliveries of the same event, and another parcel's event, at once:
    the order is delivered once, each event stored once. SQLite serializes
    the writers; a loser that times out answers 500 and its retry changes
    nothing more."""
    from django.test import Client

    order = OrderFactory()
    ship(order, "RACE000001", "RACE000002")
    bodies = [
        aftership_body("Delivered", number="RACE000001", event_id="race-1"),
        aftership_body("Delivered", number="RACE000001", event_id="race-1"),
        aftership_body("Delivered", number="RACE000002", event_id="race-2"),
    ]
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    applied: list[int] = []

    def deliver(body):
        barrier.wait()
        try:
            response = post_aftership(Client(raise_request_exception=False), body)
            statuses.append(response.status_code)
            if response.status_code == 200:
                applied.append(response.json()["applied"])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(statuses) == 3 and set(statuses) <= {200, 500}
    # The threads worked on this test's database: what they applied is there.
    # (On SQLite all three may lose: its in-memory database answers "table is
    # locked" at once instead of waiting, so none may have applied anything.)
    assert sum(applied) == CarrierEvent.objects.count()
    assert events_of(order).count(MailEvent.DELIVERED) <= 1
    for body in bodies:  # the provider retries what failed; a repeat does nothing
        assert post_aftership(Client(), body).status_code == 200
    assert CarrierEvent.objects.count() == 2
    assert fresh(order).state == "delivered"
    assert events_of(order).count(MailEvent.DELIVERED) == 1
    assert events_of(order).count("feedback_request") == 1
