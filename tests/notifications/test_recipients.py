"""Who gets an internal event: the rule of notifications.recipients."""

from __future__ import annotations

import pytest

from django_order_mail.events import StaffEvent
from django_order_mail.notifications.recipients import (
    register_staff_default,
    staff_default,
    staff_events,
    staff_recipients,
)

from .helpers import set_up

pytestmark = pytest.mark.django_db


def test_the_core_events_are_off_until_set_up():
    for event in StaffEvent:
        target = staff_recipients(event)
        assert not target.active and target.addresses == ()


def test_the_admins_row_wins(django_user_model):
    anna = django_user_model.objects.create_user("anna", "ANNA@shop.example", is_staff=True)
    set_up(StaffEvent.NEW_ORDER, "anna@shop.example, orders@shop.example", users=[anna])
    target = staff_recipients(StaffEvent.NEW_ORDER)
    assert target.active and target.from_admin
    assert target.addresses == ("anna@shop.example", "orders@shop.example")  # each address once


def test_a_registered_default_reads_the_settings_each_time(mail_settings):
    register_staff_default("low_score_alert", lambda: ["a@shop.example", "A@shop.example", ""], source="X")
    try:
        assert staff_recipients("low_score_alert").addresses == ("a@shop.example",)
    finally:
        from django_order_mail.feedback.alerts import register_alert_recipients

        register_alert_recipients()
    mail_settings(FEEDBACK_ALERT_EMAIL="care@shop.example")
    assert staff_recipients("low_score_alert").addresses == ("care@shop.example",)
    assert "FEEDBACK_ALERT_EMAIL" in staff_default("low_score_alert").source


class Digest:
    """Something an internal event is about that is not an order."""

    def get_mail_recipient(self):
        return "logistics@shop.example"


def test_an_object_that_is_not_an_order_names_its_own_staff_address(order):
    # An internal event without a registered default (a shop's own digest).
    assert staff_recipients("stock_digest", Digest()).addresses == ("logistics@shop.example",)
    # ...but an order's own address is the customer's: never used for staff mail.
    assert staff_recipients("stock_digest", order).addresses == ("help@shop.example",)


def test_the_admin_lists_the_events_it_can_route():
    names = [e.name for e in staff_events()]
    assert names[:2] == ["new_order", "high_value_order"]
    assert "low_score_alert" in names
    # Written by the apps themselves, not by a transition: listed through their defaults.
    assert "review_not_received_alert" in names and "stale_shipments_digest" in names
    assert "ORDER_MAIL['REVIEWS_ALERT_EMAIL']" in staff_default("review_not_received_alert").source
    assert "CARRIER_TRACKING_DIGEST_EMAIL" in staff_default("stale_shipments_digest").source
