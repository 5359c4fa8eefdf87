"""The shop's cart list with the carts app's columns: value, status and the
next reminder (when, which step), in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_order_mail.carts.cart_admin import next_reminder
from django_order_mail.carts.sequence import configured_steps
from tests.cart_helpers import hours, make_cart
from tests.carts.staff_helpers import save_sequence

pytestmark = pytest.mark.django_db

LIST = "/shop-admin/testapp/cart/"


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = "tests.carts.cart_admin_urls"


def test_next_reminder_follows_the_sequence():
    save_sequence(
        {"number": 1, "after_hours": 1},
        {"number": 2, "after_hours": 24, "enabled": False},
        {"number": 3, "after_hours": 72},
    )
    steps = configured_steps()
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(0.5))
    step, due = next_reminder(cart, steps, now)
    assert step.number == 1 and due == cart.last_activity_at + hours(1)

    cart.reminder_step, cart.last_reminded_at = 1, now  # step 1 went; step 2 is off
    step, due = next_reminder(cart, steps, now)
    assert step.number == 3 and due == max(cart.last_activity_at + hours(72), now + hours(71))

    cart.reminder_step = 3
    assert next_reminder(cart, steps, now) is None  # the sequence is done
    cart.reminder_step, cart.ordered_at = 1, now
    assert next_reminder(cart, steps, now) is None  # ordered


def test_a_cart_found_too_late_gets_no_reminder(mail_settings):
    mail_settings(ABANDONED_CART_MAX_IDLE_HOURS=48)
    now = timezone.now()
    cart = make_cart(idle_since=now - timedelta(days=3))
    assert next_reminder(cart, configured_steps(), now) is None


def test_the_list_shows_value_status_and_next_reminder(admin_client):
    now = timezone.now()
    open_cart = make_cart(idle_since=now - hours(2), email="tina@example.com")
    ordered = make_cart(idle_since=now - hours(2), email="lars@example.com")
    ordered.mark_ordered(None)
    page = admin_client.get(LIST).content.decode()
    assert "€168.80" in page  # 129.00 + 2 × 19.90, summed by the database
    assert "Ordered" in page and "Open" in page
    assert "Step 1 at" in page  # the default 12 h step, 10 h from now
    assert open_cart.email in page


def test_the_list_costs_the_same_queries_for_many_carts(admin_client):
    now = timezone.now()
    for _ in range(3):
        make_cart(idle_since=now - hours(20))
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(LIST).status_code == 200
    for _ in range(30):
        make_cart(idle_since=now - hours(2))
    with CaptureQueriesContext(connection) as many:
        page = admin_client.get(LIST).content.decode()
    assert len(many) == len(few)
    assert "due now" in page
