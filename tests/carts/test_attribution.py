"""Attribution of orders to reminders, and the recovery figures staff see."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from django_order_mail.carts import stats
from django_order_mail.carts.attribution import record_order
from django_order_mail.carts.links import SESSION_KEY, restore_url
from django_order_mail.carts.models import CartRecovery
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

Source = CartRecovery.Source


@pytest.fixture(autouse=True)
def _setup(broker, esp, mail_settings):
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)


def reminded_cart(email=None, when=None):
    """A cart whose step-1 reminder was sent (at the real now)."""
    now = when or timezone.now()
    cart = make_cart(idle_since=now - hours(13), **({"email": email} if email else {}))
    scan_at(now)
    row = reminders(cart)[-1]
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    return cart, row


def checkout_request(client):
    """The session the shop's checkout view would see."""

    class Request:
        session = client.session

    return Request()


def test_order_from_the_restore_link_is_recovered_with_its_revenue():
    cart, row = reminded_cart()
    client = Client()
    client.get(restore_url(row.pk).replace("https://shop.example", ""))
    order = OrderFactory(email=cart.email)
    request = checkout_request(client)
    recovery = cart.mark_ordered(order, request=request)
    assert recovery.source == Source.RESTORE_LINK
    assert recovery.reminder == row and recovery.step == 1
    assert recovery.order == order and recovery.order_reference == order.number
    # The order's own total (lines + shipping + tax), not the cart's.
    assert recovery.revenue == order.get_mail_totals()["total"].quantize(Decimal("0.01"))
    assert recovery.currency == "USD"
    assert recovery.cart == cart
    assert SESSION_KEY not in request.session  # used up
    assert EmailLog.objects.filter(email=row, status="recovered").exists()
    cart.refresh_from_db()
    assert cart.ordered_at is not None and cart.placed_order == order


def test_reminded_cart_ordered_without_the_link_is_recovered_within_the_window():
    cart, _row = reminded_cart()
    recovery = cart.mark_ordered(OrderFactory(email=cart.email))
    assert recovery.source == Source.CART
    assert recovery.revenue is not None


def test_order_outside_the_window_is_not_recovered(mail_settings):
    mail_settings(ABANDONED_CART_ATTRIBUTION_HOURS=72)
    cart, row = reminded_cart()
    OutboxEmail.objects.filter(pk=row.pk).update(sent_at=timezone.now() - hours(73))
    assert cart.mark_ordered(OrderFactory(email=cart.email)) is None
    assert CartRecovery.objects.count() == 0
    cart.refresh_from_db()
    assert cart.ordered_at is not None  # the sequence stops all the same


@pytest.mark.parametrize("hours_later, credited", [(0, True), (3, False)])
def test_restore_marker_counts_only_within_the_window(mail_settings, monkeypatch, hours_later, credited):
    """The customer checks out under another address, so only the session
    marker can tell; it expires with the attribution window."""
    import time

    mail_settings(ABANDONED_CART_ATTRIBUTION_HOURS=2)
    _cart, row = reminded_cart()
    client = Client()
    client.get(restore_url(row.pk).replace("https://shop.example", ""))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + hours_later * 3600)
    recovery = record_order(OrderFactory(email="work-address@example.com"), request=checkout_request(client))
    assert (recovery is not None) == credited
    if credited:
        assert recovery.source == Source.RESTORE_LINK and recovery.reminder == row


def test_order_by_address_within_the_window_closes_the_reminded_cart():
    """The shop did not link the order to a cart: the address finds the
    reminder, and the reminded cart's sequence stops."""
    cart, row = reminded_cart(email="Kari@Example.no")
    order = OrderFactory(email="kari@example.no")
    recovery = record_order(order)
    assert recovery.source == Source.WINDOW and recovery.reminder == row
    assert recovery.recipient == "kari@example.no"
    cart.refresh_from_db()
    assert cart.ordered_at is not None and cart.placed_order == order


def test_recording_an_order_twice_counts_it_once():
    cart, _row = reminded_cart()
    order = OrderFactory(email=cart.email)
    first = cart.mark_ordered(order)
    again = record_order(order, cart=cart)
    assert again == first
    assert CartRecovery.objects.count() == 1
    # A second order from the same reminded cart does not count it twice either.
    assert record_order(OrderFactory(email=cart.email), cart=cart) == first
    assert CartRecovery.objects.count() == 1


def test_order_without_any_reminder_is_not_recovered():
    cart = make_cart()
    assert cart.mark_ordered(OrderFactory(email=cart.email)) is None
    assert record_order(OrderFactory(email="nobody@example.com")) is None


def test_skipped_or_suppressed_reminders_get_no_credit():
    from django_order_mail.tracking.suppression import suppress

    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    suppress(cart.email, "unsubscribe")
    assert deliver(reminders(cart)[0].pk) == Status.SUPPRESSED
    assert cart.mark_ordered(OrderFactory(email=cart.email)) is None


def test_figures_per_step_and_week(mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24])
    now = timezone.now()
    carts = []
    for _ in range(4):
        cart = make_cart(idle_since=now - hours(30))
        carts.append(cart)
    scan_at(now - hours(25))  # step 1 for all four
    for row in reminders():
        assert deliver(row.pk) == Status.SENT
    carts[0].mark_ordered(OrderFactory(email=carts[0].email))  # recovered by step 1
    scan_at(now)  # step 2 for the three others
    for row in reminders():
        if row.status == Status.QUEUED:
            assert deliver(row.pk) == Status.SENT
    carts[1].mark_ordered(OrderFactory(email=carts[1].email), revenue="50.00")  # step 2
    since = stats.period_start(4)
    by_step = {f.label: f for f in stats.per_step(since)}
    assert (by_step["1"].sent, by_step["1"].recovered) == (4, 1)
    assert (by_step["2"].sent, by_step["2"].recovered) == (3, 1)
    assert by_step["1"].rate == 0.25
    assert by_step["2"].revenue == {"USD": Decimal("50.00")}
    total = stats.overall(since)
    assert (total.sent, total.recovered) == (4, 2)
    weeks = stats.per_week(since)
    assert len(weeks) == 4
    assert sum(w.sent for w in weeks) == 7 and sum(w.recovered for w in weeks) == 2
    assert weeks[-1].label == stats.iso_label(stats.week_start(timezone.localdate()))


def test_admin_shows_recovery_rate_and_revenue(admin_client):
    cart, _row = reminded_cart()
    cart.mark_ordered(OrderFactory(email=cart.email), revenue="129.00", currency="EUR")
    response = admin_client.get("/admin/order_mail_carts/cartrecovery/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Abandoned-cart recovery" in html
    assert "100.0 %" in html  # one reminder, one recovery
    assert "€129.00" in html
    assert "<script" not in html.split('id="cart-stats-title"')[1].split("</section>")[0]
    response = admin_client.get("/admin/order_mail_carts/cartrecovery/", {"weeks": "52"})
    assert response.status_code == 200
    assert 'class="current">52 weeks' in response.content.decode()


def test_send_log_admin_shows_cart_reminders(admin_client):
    _cart, row = reminded_cart()
    response = admin_client.get(f"/admin/django_order_mail/outboxemail/{row.pk}/change/")
    assert response.status_code == 200
    assert row.reference in response.content.decode()
    response = admin_client.get("/admin/django_order_mail/outboxemail/", {"event__exact": "abandoned_cart"})
    assert response.status_code == 200
