"""Coupons in reminders and the rationing policy (settings, enforced at send)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from django_order_mail.carts.incentives import normalize_coupon
from django_order_mail.carts.models import CartCoupon, CartRecovery
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests import cart_helpers
from tests.cart_helpers import hours, make_cart, reminders, scan_at

pytestmark = pytest.mark.django_db

ISSUER = "tests.cart_helpers.issue_coupon"


@pytest.fixture(autouse=True)
def _setup(broker, esp, mail_settings):
    cart_helpers.issued.clear()
    # The frequency cap is tested elsewhere; here several reminders go to one address.
    mail_settings(ABANDONED_CART_COUPON_ISSUER=ISSUER, COMMERCIAL_FREQUENCY_CAP=None)


def send_reminder(cart, now=None, step_hours=13):
    """Scan ``cart`` due for its next step and send the reminder; the row."""
    now = now or timezone.now()
    scan_at(now)
    row = reminders(cart)[-1]
    assert deliver(row.pk) == Status.SENT, row.last_error
    row.refresh_from_db()
    return row


def test_coupon_is_issued_at_send_time_and_shown_in_the_email():
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    assert cart_helpers.issued == []  # writing the reminder issues nothing
    deliver(row.pk)
    row.refresh_from_db()
    [coupon] = cart_helpers.issued
    assert coupon["recipient"] == cart.email and coupon["step"] == 1
    assert row.extra["coupon"]["code"] == coupon["code"]
    assert coupon["code"] in row.body_html and coupon["code"] in row.body_text
    assert "10 % off this cart" in row.body_html
    assert EmailLog.objects.filter(email=row, status="coupon", message__contains=coupon["code"]).exists()


def test_cancelled_reminder_costs_no_coupon():
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    cart.mark_ordered(None)
    assert deliver(reminders(cart)[0].pk) == Status.CANCELLED
    assert cart_helpers.issued == []


def test_suppressed_address_costs_no_coupon():
    from django_order_mail.tracking.suppression import suppress

    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    suppress(cart.email, "unsubscribe")
    assert deliver(reminders(cart)[0].pk) == Status.SUPPRESSED
    assert cart_helpers.issued == []


def test_retry_after_a_transient_error_shows_the_same_code(esp):
    from tests.backends import api_error

    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    [row] = reminders(cart)
    esp.outcomes = [api_error(503)]
    assert deliver(row.pk) == "retry"
    OutboxEmail.objects.filter(pk=row.pk).update(send_after=None)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    assert len(cart_helpers.issued) == 1
    assert cart_helpers.issued[0]["code"] in row.body_html


def test_policy_from_step(mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24], ABANDONED_CART_COUPON_POLICY={"from_step": 2})
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(30))
    first = send_reminder(cart, now - hours(25))
    assert "coupon" not in first.extra
    assert first.extra["coupon_withheld"] == "coupons start at step 2 (this is step 1)"
    assert EmailLog.objects.filter(email=first, status="coupon", message__startswith="no coupon").exists()
    second = send_reminder(cart, now)
    assert second.extra["step"] == 2 and second.extra["coupon"]["code"]
    assert [c["step"] for c in cart_helpers.issued] == [2]
    assert CartCoupon.objects.get().reminder == second


def test_policy_once_per_n_days_per_address(mail_settings):
    mail_settings(ABANDONED_CART_COUPON_POLICY={"once_per_days": 30, "first_recovery_only": False})
    now = timezone.now()
    first_cart = make_cart(email="Repeat@Example.com", idle_since=now - hours(13))
    first = send_reminder(first_cart, now)
    assert first.extra["coupon"]
    # Another cart of the same customer (any spelling) within 30 days: no coupon.
    second_cart = make_cart(email="repeat@example.com", idle_since=now - hours(13))
    second = send_reminder(second_cart, now)
    assert "coupon" not in second.extra
    assert second.extra["coupon_withheld"].startswith("once per 30 days")
    # 31 days after the first coupon went out, another one is allowed.
    CartCoupon.objects.filter(reminder=first).update(issued_at=now - hours(31 * 24))
    third_cart = make_cart(email="repeat@example.com", idle_since=now - hours(13))
    third = send_reminder(third_cart, now)
    assert third.extra["coupon"]
    assert len(cart_helpers.issued) == 2


def test_policy_first_recovered_cart_only(mail_settings):
    mail_settings(ABANDONED_CART_COUPON_POLICY={"once_per_days": None, "first_recovery_only": True})
    now = timezone.now()
    cart = make_cart(email="learner@example.com", idle_since=now - hours(13))
    first = send_reminder(cart, now)
    assert first.extra["coupon"]
    assert cart.mark_ordered(None) is not None  # recovered, with the coupon
    assert CartRecovery.objects.get().coupon_code == first.extra["coupon"]["code"]
    # The customer learned the trick: abandon again, wait for the discount.
    later = now + hours(1)
    again = make_cart(email="Learner@Example.com", idle_since=later)
    second = send_reminder(again, later + hours(13))
    assert "coupon" not in second.extra
    assert second.extra["coupon_withheld"].startswith("first recovery only")
    assert "Your personal code" not in second.body_text


def test_without_policy_limits_every_reminder_gets_a_unique_code(mail_settings):
    mail_settings(
        ABANDONED_CART_COUPON_POLICY={"once_per_days": None, "first_recovery_only": False, "from_step": 1}
    )
    now = timezone.now()
    rows = [
        send_reminder(make_cart(email="a@example.com", idle_since=now - hours(13)), now) for _ in range(3)
    ]
    codes = [r.extra["coupon"]["code"] for r in rows]
    assert len(set(codes)) == 3


def test_no_issuer_means_no_coupon(mail_settings):
    mail_settings(ABANDONED_CART_COUPON_ISSUER=None)
    now = timezone.now()
    row = send_reminder(make_cart(idle_since=now - hours(13)), now)
    assert "coupon" not in row.extra and "coupon_withheld" not in row.extra
    assert "Your personal code" not in row.body_text


@pytest.mark.parametrize(
    "issuer, reason",
    [
        ("tests.cart_helpers.declining_issuer", "the issuer gave no coupon"),
        ("tests.cart_helpers.broken_issuer", "the coupon issuer failed: RuntimeError: coupon service down"),
    ],
)
def test_issuer_declining_or_failing_still_sends_the_reminder(mail_settings, issuer, reason):
    mail_settings(ABANDONED_CART_COUPON_ISSUER=issuer)
    now = timezone.now()
    row = send_reminder(make_cart(idle_since=now - hours(13)), now)
    assert row.extra["coupon_withheld"] == reason
    assert row.status == Status.SENT


def test_normalize_coupon():
    assert normalize_coupon("ABC") == {"code": "ABC", "description": "", "expires_at": ""}
    assert normalize_coupon(None) is None
    assert normalize_coupon({"code": "X", "expires_at": timezone.datetime(2026, 4, 1)})["expires_at"] == (
        "2026-04-01T00:00:00"
    )
    with pytest.raises(TypeError):
        normalize_coupon(42)
