"""The event registry (docs/events.rst): a shop's own event is registered
like the built-in ones and goes through the whole path — transition,
outbox row, template, send — with no code in the app itself."""

from __future__ import annotations

import pytest
from django.db import transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import (
    ALL_EVENTS,
    COMMERCIAL_EVENTS,
    SHIPMENT_EVENTS,
    event_choices,
    get_event,
    register_event,
)
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_a_shops_own_event_goes_from_its_transition_to_the_customer(broker, esp):
    order = OrderFactory(state="awaiting_shipment", customer_name="Tina")
    with transaction.atomic():
        order.mark_ready_for_pickup(pickup_point="Storgata 1, Oslo")
        order.save()
    row = OutboxEmail.objects.get(event="ready_for_pickup")
    assert row.extra == {"pickup_point": "Storgata 1, Oslo"}
    assert row.idempotency_key.endswith(":ready_for_pickup:-")

    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert message.subject == f"Order {order.number} is ready for pickup"
    assert "Storgata 1, Oslo" in message.body and "Hello Tina" in message.body
    assert "List-Unsubscribe" not in message.extra_headers  # transactional


def test_a_registered_event_is_in_the_live_sets_and_the_choices():
    assert "ready_for_pickup" in ALL_EVENTS
    assert "ready_for_pickup" not in COMMERCIAL_EVENTS and "ready_for_pickup" not in SHIPMENT_EVENTS
    assert ("ready_for_pickup", "Ready for pickup") in event_choices()
    assert get_event("order_confirmation").transitions == ()
    assert get_event("feedback_request").commercial and get_event("feedback_request").follow_up
    assert get_event("low_score_alert").internal


def test_registering_is_idempotent_and_refuses_conflicts_and_bad_names():
    again = register_event("ready_for_pickup", "Ready for pickup", transitions=["mark_ready_for_pickup"])
    assert again == get_event("ready_for_pickup")
    with pytest.raises(ValueError, match="already registered differently"):
        register_event("ready_for_pickup", "Ready for pickup", commercial=True)
    for bad in ("Ready", "ready-for-pickup", "", "x" * 41, "1st"):
        with pytest.raises(ValueError, match="event name"):
            register_event(bad, "Bad")


def test_notify_false_skips_a_custom_event_with_the_reason(broker):
    order = OrderFactory(state="awaiting_shipment")
    with transaction.atomic():
        order.mark_ready_for_pickup(pickup_point="Storgata 1", notify=False)
        order.save()
    row = OutboxEmail.objects.get(event="ready_for_pickup")
    assert row.status == Status.SKIPPED and row.last_error


def test_staff_can_edit_and_analyse_a_registered_event(admin_client):
    from django_order_mail.admin.forms import event_choices as editor_events

    assert "ready_for_pickup" in dict(editor_events())
    page = admin_client.get("/admin/order_mail_tracking/emailanalytics/")
    assert page.status_code == 200
    assert "Ready for pickup" in page.content.decode()
