"""The reminder scan: sequence timing (time travel through ``now=``), batches,
idempotency per cart and step, which carts it leaves alone."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_order_mail.carts.scan import due_carts, scan_batch, write_reminders
from django_order_mail.carts.sequence import parse_steps
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.outbox.search import search
from tests.cart_helpers import T0, hours, make_cart, reminders, scan_at, steps_of
from tests.testapp.models import Cart

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _broker(broker):
    return broker


# -- the sequence -----------------------------------------------------------------------------


def test_default_sequence_is_one_reminder_after_12_idle_hours():
    cart = make_cart(idle_since=T0)
    assert scan_at(T0 + hours(11.9)) == {1: 0}
    assert reminders(cart) == []

    assert scan_at(T0 + hours(12)) == {1: 1}
    [row] = reminders(cart)
    assert row.status == Status.QUEUED
    assert row.extra == {"step": 1, "steps": 1}
    assert row.recipient == cart.email
    assert row.idempotency_key == f"testapp.cart:{cart.pk}:abandoned_cart:-:step-1"
    assert row.reference == f"cart-{cart.pk}"

    # Nothing more, however long the cart stays idle.
    assert scan_at(T0 + hours(500)) == {1: 0}
    assert steps_of(cart) == [1]


def test_three_step_sequence_fires_each_step_on_time(mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24, 72])
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(0.5))
    assert steps_of(cart) == []
    scan_at(T0 + hours(1))
    assert steps_of(cart) == [1]
    scan_at(T0 + hours(23.9))
    assert steps_of(cart) == [1]
    scan_at(T0 + hours(24))
    assert steps_of(cart) == [1, 2]
    scan_at(T0 + hours(71))
    assert steps_of(cart) == [1, 2]
    scan_at(T0 + hours(72))
    assert steps_of(cart) == [1, 2, 3]
    assert [r.extra["steps"] for r in reminders(cart)] == [3, 3, 3]
    scan_at(T0 + hours(1000))
    assert steps_of(cart) == [1, 2, 3]


def test_a_cart_found_late_never_gets_two_reminders_in_a_row(mail_settings):
    """Idle 100 h when first seen (beat was down): step 1 now, step 2 only
    after the 23 h gap of the sequence, step 3 after 48 h more."""
    mail_settings(ABANDONED_CART_STEPS=[{"after_hours": 1}, {"after_hours": 24}, {"after_hours": 72}])
    cart = make_cart(idle_since=T0)
    now = T0 + hours(100)
    scan_at(now)
    scan_at(now + hours(0.1))
    assert steps_of(cart) == [1]
    scan_at(now + hours(22.9))
    assert steps_of(cart) == [1]
    scan_at(now + hours(23))
    assert steps_of(cart) == [1, 2]
    scan_at(now + hours(70.9))
    assert steps_of(cart) == [1, 2]
    scan_at(now + hours(71))
    assert steps_of(cart) == [1, 2, 3]


def test_activity_after_a_reminder_restarts_the_idle_clock(mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24])
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(1))
    cart.touch(now=T0 + hours(10))  # the customer came back and left again
    scan_at(T0 + hours(24))
    assert steps_of(cart) == [1]
    scan_at(T0 + hours(34))
    assert steps_of(cart) == [1, 2]


def test_carts_idle_longer_than_max_idle_get_no_first_reminder(mail_settings):
    mail_settings(ABANDONED_CART_MAX_IDLE_HOURS=48)
    stale = make_cart(idle_since=T0 - hours(49))
    fresh = make_cart(idle_since=T0 - hours(13))
    scan_at(T0)
    assert steps_of(stale) == []
    assert steps_of(fresh) == [1]


@pytest.mark.parametrize(
    "raw, steps",
    [
        ([12], [(12, 0)]),
        ([1, 24, 72], [(1, 0), (24, 23), (72, 48)]),
        ([{"after_hours": 0.5}, {"after_hours": 6}], [(0.5, 0), (6, 5.5)]),
    ],
)
def test_parse_steps(raw, steps):
    parsed = parse_steps(raw)
    assert [(s.after.total_seconds() / 3600, s.gap.total_seconds() / 3600) for s in parsed] == steps
    assert [s.number for s in parsed] == list(range(1, len(steps) + 1))


@pytest.mark.parametrize(
    "raw, message",
    [
        (12, "must be a list"),
        ([24, 12], "must come later"),
        ([0], "positive number"),
        ([{"after": 1}], "unknown keys"),
        ([True], "positive number"),
    ],
)
def test_parse_steps_rejects_nonsense(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_steps(raw)


def test_the_reminder_carries_the_customers_name_for_the_send_log_search():
    named = make_cart(email="kari@fjordpost.no", customer_name="Kari Nordmann", idle_since=T0)
    anonymous = make_cart(email="guest@example.com", customer_name="", idle_since=T0)
    scan_at(T0 + hours(13))
    assert [r.customer_name for r in reminders(named)] == ["Kari Nordmann"]
    assert [r.customer_name for r in reminders(anonymous)] == [""]
    # Found by part of the name, not only by the address.
    found = search(OutboxEmail.objects.filter(event="abandoned_cart"), "nordm")
    assert [r.recipient for r in found] == ["kari@fjordpost.no"]


# -- which carts ------------------------------------------------------------------------------


def test_scan_leaves_ordered_emptied_opted_out_and_anonymous_carts_alone():
    due = make_cart(idle_since=T0)
    ordered = make_cart(idle_since=T0, ordered_at=T0 + hours(1))
    emptied = make_cart(idle_since=T0, emptied_at=T0)
    opted_out = make_cart(idle_since=T0, reminders_off=True)
    anonymous = make_cart(email="", idle_since=T0)
    scan_at(T0 + hours(13))
    assert steps_of(due) == [1]
    for cart in (ordered, emptied, opted_out, anonymous):
        assert steps_of(cart) == [], cart


def test_marketplace_channel_and_disabled_event_are_skipped_with_a_reason(mail_settings):
    cart = make_cart(idle_since=T0)
    Cart.get_mail_channel = lambda self: "amazon_fba"
    try:
        scan_at(T0 + hours(13))
    finally:
        del Cart.get_mail_channel
    [row] = reminders(cart)
    assert row.status == Status.SKIPPED
    assert "amazon_fba" in row.last_error

    # A disabled event writes nothing at all (no flood of skipped rows).
    mail_settings(DISABLED_EVENTS=["abandoned_cart"])
    other = make_cart(idle_since=T0)
    assert scan_at(T0 + hours(13)) == {}
    assert reminders(other) == []


# -- idempotency and batches ----------------------------------------------------------------------


def test_reminder_is_written_once_per_cart_and_step_even_if_the_step_counter_is_clobbered():
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(13))
    # A shop's stale save() writes the old counter back: the scan sees the
    # cart again, but the idempotency key keeps it to one reminder.
    Cart.objects.filter(pk=cart.pk).update(reminder_step=0, last_reminded_at=None)
    assert scan_at(T0 + hours(13.1)) == {1: 1}
    assert steps_of(cart) == [1]
    cart.refresh_from_db()
    assert cart.reminder_step == 1


def test_two_scans_writing_the_same_batch_write_each_reminder_once():
    carts = [make_cart(idle_since=T0) for _ in range(3)]
    step = parse_steps([12])[0]
    first = write_reminders(carts, step, 1, T0 + hours(13))
    second = write_reminders(carts, step, 1, T0 + hours(13))
    assert len(first) == 3 and second == []
    assert sum(len(reminders(c)) for c in carts) == 3


def test_batches_cover_every_due_cart_exactly_once():
    due = [make_cart(idle_since=T0 - hours(i)) for i in range(23)]
    not_yet = [make_cart(idle_since=T0 + hours(2)) for _ in range(4)]
    handled = scan_at(T0 + hours(13), batch_size=5)
    assert handled == {1: 23}
    assert all(steps_of(c) == [1] for c in due)
    assert all(steps_of(c) == [] for c in not_yet)
    assert len(reminders()) == 23


def test_a_batch_costs_the_same_queries_whatever_its_size():
    step = parse_steps([12])[0]
    # Django caches content types per process: whichever test reads the
    # cart's first pays one more query, whatever the batch size.
    ContentType.objects.get_for_model(Cart)
    counts = []
    for size in (3, 12):
        carts = [make_cart(idle_since=T0 - hours(1)) for _ in range(size)]
        with CaptureQueriesContext(connection) as queries:
            assert scan_batch(Cart, step, 1, T0 + hours(13), 50) == size
        counts.append(len(queries))
        assert all(steps_of(c) == [1] for c in carts)
    assert counts[0] == counts[1]


def test_due_query_uses_the_partial_index_columns():
    """The scan's WHERE clause is the index's condition plus a range on its
    columns, so the database can answer it from the index."""
    step = parse_steps([12])[0]
    sql = str(due_carts(Cart, step, T0).query)
    for column in ("reminder_step", "last_activity_at", "email_captured_at", "ordered_at", "emptied_at"):
        assert column in sql
    index = next(i for i in Cart._meta.indexes if i.name == "testapp_cart_remind")
    assert index.fields == ["reminder_step", "last_activity_at"]
    assert index.condition is not None
