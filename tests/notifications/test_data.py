"""A customer's erasure reaches the staff emails about their orders."""

from __future__ import annotations

import pytest

from django_order_mail.data.registry import ERASED
from django_order_mail.data.requests import erase_address
from django_order_mail.delivery.sender import deliver
from django_order_mail.events import StaffEvent

from .helpers import paid_order, set_up, staff_rows

pytestmark = pytest.mark.django_db


def test_erasing_a_customer_erases_the_staff_emails_about_their_orders(broker):
    set_up(StaffEvent.NEW_ORDER, "orders@shop.example")
    tina = paid_order(email="tina@example.com", customer_name="Tina Nordmann")
    other = paid_order(email="ola@example.com", customer_name="Ola")
    for order in (tina, other):
        deliver(staff_rows(order, StaffEvent.NEW_ORDER).get().pk)
    about_tina = staff_rows(tina, StaffEvent.NEW_ORDER).get()
    assert "Tina Nordmann" in about_tina.subject and "tina@example.com" in about_tina.body_text

    counts = erase_address("Tina@Example.com")

    assert counts["staff_emails"] == 1
    about_tina.refresh_from_db()
    assert (about_tina.subject, about_tina.body_text, about_tina.body_html) == (ERASED, "", "")
    assert about_tina.recipient == "orders@shop.example"  # staff's address, not the customer's
    about_ola = staff_rows(other, StaffEvent.NEW_ORDER).get()
    assert "Ola" in about_ola.subject and about_ola.body_html
    assert erase_address("tina@example.com")["staff_emails"] == 0  # nothing left to erase
