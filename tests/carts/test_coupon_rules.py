"""Coupon rules from the admin: validation, codes issued right before the
send (unique, random, bound to the address), rationing, the hook winning,
and the checkout's check and single use."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from django_order_mail.carts.coupons import ALPHABET, check_coupon, new_code, redeem_coupon
from django_order_mail.carts.models import CartCoupon, CartRecovery, CouponRule
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, Status
from django_order_mail.policies.models import SettingChange
from tests import cart_helpers
from tests.cart_helpers import hours, make_cart, reminders, scan_at
from tests.carts.staff_helpers import rule, save_sequence

pytestmark = pytest.mark.django_db

CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


@pytest.fixture(autouse=True)
def _setup(broker, esp, mail_settings):
    cart_helpers.issued.clear()
    mail_settings(COMMERCIAL_FREQUENCY_CAP=None)


def sent_reminder(cart, now=None):
    now = now or timezone.now()
    scan_at(now)
    row = reminders(cart)[-1]
    assert deliver(row.pk) == Status.SENT, row.last_error
    row.refresh_from_db()
    return row


def with_rule(**fields) -> CouponRule:
    coupon_rule = rule(**fields)
    save_sequence({"number": 1, "after_hours": 12, "coupon_rule": coupon_rule})
    return coupon_rule


# -- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value": Decimal("0")}, "value", "A percentage must be between 1 and 100."),
        ({"value": Decimal("101")}, "value", "A percentage must be between 1 and 100."),
        ({"kind": "amount", "value": Decimal("5")}, "currency", "Say which currency the amount is in."),
        (
            {"kind": "amount", "value": Decimal("-5"), "currency": "EUR"},
            "value",
            "The amount must be more than zero.",
        ),
        ({"per_customer_limit": 0}, "per_customer_limit", "Allow at least one code per customer."),
        ({"valid_days": 0}, "valid_days", "A code must be valid for at least one day."),
        ({"code_prefix": "cart 1"}, "code_prefix", "Capital letters, digits and '-' only."),
        ({"currency": "EURO"}, "currency", "A three-letter currency code such as EUR."),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_message(fields, field, message):
    with pytest.raises(ValidationError) as refused:
        rule(**fields)
    assert message in refused.value.message_dict[field]


def test_rule_errors_are_translated():
    with translation.override("de"):
        with pytest.raises(ValidationError) as refused:
            rule(value=Decimal("150"))
        [message] = refused.value.message_dict["value"]
    assert message == "Ein Prozentsatz muss zwischen 1 und 100 liegen."


def test_staff_create_a_rule_in_the_admin_and_it_is_logged(admin_client):
    data = {
        "name": "Come back 10 %",
        "active": "on",
        "kind": "percent",
        "value": "10",
        "currency": "",
        "minimum_cart_value": "50",
        "valid_days": "7",
        "per_customer_limit": "1",
        "once_per_days": "90",
        "code_prefix": "CART-",
    }
    response = admin_client.post(reverse("admin:order_mail_carts_couponrule_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = CouponRule.objects.get()
    assert (created.value, created.minimum_cart_value, created.first_recovery_only) == (
        Decimal("10"),
        Decimal("50"),
        False,
    )
    assert SettingChange.objects.filter(object_id=str(created.pk), field="value", new_value="10").exists()
    data["value"] = "15"
    admin_client.post(reverse("admin:order_mail_carts_couponrule_change", args=[created.pk]), data)
    change = SettingChange.objects.get(object_id=str(created.pk), field="value", old_value="10")
    assert change.new_value == "15"
    page = admin_client.get(reverse("admin:order_mail_carts_couponrule_changelist")).content.decode()
    assert "Come back 10 %" in page and "15 %" in page


def test_percentage_rule_above_100_is_refused_in_the_admin(admin_client):
    data = {
        "name": "Too much",
        "kind": "percent",
        "value": "120",
        "valid_days": "7",
        "per_customer_limit": "1",
    }
    page = admin_client.post(reverse("admin:order_mail_carts_couponrule_add"), data).content.decode()
    assert "A percentage must be between 1 and 100." in page
    assert not CouponRule.objects.exists()


# -- issuing ---------------------------------------------------------------------------------------------


def test_a_reminder_carries_a_code_of_its_steps_rule():
    coupon_rule = with_rule(name="Come back", valid_days=7)
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), email="Tina@Example.com")
    scan_at(now)
    [row] = reminders(cart)
    assert row.extra["coupon_rule"] == coupon_rule.pk
    assert not CartCoupon.objects.exists()  # written, not sent: no code yet
    deliver(row.pk)
    row.refresh_from_db()
    coupon = CartCoupon.objects.get()
    assert CODE.match(coupon.code)
    assert coupon.recipient == "tina@example.com" and coupon.rule == coupon_rule and coupon.reminder == row
    assert coupon.kind == "percent" and coupon.value == Decimal("10")
    assert abs(coupon.expires_at - (coupon.issued_at + timedelta(days=7))) < timedelta(seconds=1)
    assert row.extra["coupon"]["code"] == coupon.code
    assert coupon.code in row.body_html and coupon.code in row.body_text
    assert "10% off your order" in row.body_text
    assert EmailLog.objects.filter(email=row, status="coupon", message__contains=coupon.code).exists()


def test_codes_are_random_and_unique():
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(code) for code in codes)
    assert new_code("CART-").startswith("CART-")


def test_the_description_is_in_the_emails_language():
    with_rule(kind="amount", value=Decimal("5"), currency="EUR", minimum_cart_value=Decimal("50"))
    cart = make_cart(idle_since=timezone.now() - hours(13), language="de")
    row = sent_reminder(cart)
    description = row.extra["coupon"]["description"]
    with translation.override("de"):
        template = translation.gettext("%(discount)s off orders from %(minimum)s")
    assert template != "%(discount)s off orders from %(minimum)s"
    assert "5,00\xa0€" in description and "50,00\xa0€" in description


def test_a_second_reminder_respects_the_per_customer_limit():
    coupon_rule = with_rule(per_customer_limit=1)
    now = timezone.now()
    first = make_cart(idle_since=now - hours(13), email="tina@example.com")
    second = make_cart(idle_since=now - hours(13), email="TINA@example.com")
    scan_at(now)
    for cart in (first, second):
        deliver(reminders(cart)[0].pk)
    assert CartCoupon.objects.filter(rule=coupon_rule).count() == 1
    withheld = [r for r in (reminders(first)[0], reminders(second)[0]) if "coupon" not in r.extra]
    [row] = withheld
    row.refresh_from_db()
    assert "per-customer limit" in row.extra["coupon_withheld"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"minimum_cart_value": Decimal("1000")}, "below the rule's minimum"),
        ({"kind": "amount", "value": Decimal("5"), "currency": "USD"}, "is for USD"),
        ({"active": False}, "gives no codes"),
    ],
)
def test_a_rule_that_does_not_apply_gives_no_code_and_says_why(fields, reason):
    with_rule(**fields)
    row = sent_reminder(make_cart(idle_since=timezone.now() - hours(13)))
    assert "coupon" not in row.extra and reason in row.extra["coupon_withheld"]
    assert not CartCoupon.objects.exists()
    assert EmailLog.objects.filter(email=row, status="coupon", message__contains=reason).exists()


def test_first_recovery_only_and_once_per_days():
    with_rule(first_recovery_only=True, per_customer_limit=5, once_per_days=30)
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), email="back@example.com")
    long_ago = now - timedelta(days=60)  # before this cart: the sequence goes on
    CartRecovery.objects.create(
        cart_type_id=1,
        cart_id="x",
        step=1,
        reminded_at=long_ago,
        recovered_at=long_ago,
        recipient="back@example.com",
        source="cart",
    )
    row = sent_reminder(cart)
    assert "first recovery only" in row.extra["coupon_withheld"]

    CartRecovery.objects.all().delete()
    CouponRule.objects.update(first_recovery_only=False)
    CartCoupon.objects.create(
        code="OLD", recipient="again@example.com", step=1, issued_at=now - timedelta(days=10)
    )
    row = sent_reminder(make_cart(idle_since=now - hours(13), email="again@example.com"), now)
    assert "once per 30 days: coupon OLD" in row.extra["coupon_withheld"]


def test_the_hook_wins_over_the_steps_rule(mail_settings):
    mail_settings(
        ABANDONED_CART_COUPON_ISSUER="tests.cart_helpers.issue_coupon", COMMERCIAL_FREQUENCY_CAP=None
    )
    with_rule()
    row = sent_reminder(make_cart(idle_since=timezone.now() - hours(13)))
    assert row.extra["coupon"]["code"].startswith("COMEBACK-")  # the hook's code
    assert not CartCoupon.objects.filter(rule__isnull=False).exists()


def test_a_rule_changed_after_the_reminder_was_written_still_decides_at_send():
    """The row keeps *which* rule; the rule's terms are read when the code is
    issued (switching a rule off stops its codes at once)."""
    coupon_rule = with_rule()
    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13))
    scan_at(now)
    CouponRule.objects.filter(pk=coupon_rule.pk).update(active=False)
    row = reminders(cart)[0]
    deliver(row.pk)
    row.refresh_from_db()
    assert "gives no codes" in row.extra["coupon_withheld"]


def test_a_retry_shows_the_same_code():
    with_rule()
    row = sent_reminder(make_cart(idle_since=timezone.now() - hours(13)))
    code = row.extra["coupon"]["code"]
    from django_order_mail.carts.incentives import attach_coupon

    assert attach_coupon(row, row.order, row.recipient)["code"] == code
    assert CartCoupon.objects.count() == 1


# -- the checkout ------------------------------------------------------------------------------------------


def issued(**fields) -> CartCoupon:
    with_rule(**fields)
    sent_reminder(make_cart(idle_since=timezone.now() - hours(13), email="tina@example.com"))
    return CartCoupon.objects.get()


def test_check_computes_the_discount_and_changes_nothing():
    coupon = issued(value=Decimal("10"))
    result = check_coupon(coupon.code.lower(), email="Tina@example.com", cart_total="168.80", currency="EUR")
    assert result.ok and result.discount == Decimal("16.88")
    coupon.refresh_from_db()
    assert coupon.redeemed_at is None


def test_an_amount_never_takes_off_more_than_the_cart():
    coupon = issued(kind="amount", value=Decimal("200"), currency="EUR", minimum_cart_value=None)
    assert check_coupon(
        coupon.code, email="tina@example.com", cart_total="150", currency="EUR"
    ).discount == Decimal("150")


def test_a_code_is_for_its_customer_once_and_until_it_expires():
    coupon = issued(minimum_cart_value=Decimal("100"))
    other = check_coupon(coupon.code, email="someone@example.com", cart_total="150")
    assert not other.ok and other.error == "This code was sent to another email address."
    small = check_coupon(coupon.code, email="tina@example.com", cart_total="20", currency="EUR")
    assert small.error == "This code needs an order of at least €100.00."
    assert check_coupon("NOPE-NOPE-NOPE", email="tina@example.com", cart_total="150").error == (
        "This code does not exist."
    )

    used = redeem_coupon(coupon.code, email="tina@example.com", cart_total="150", currency="EUR")
    assert used.ok and used.discount == Decimal("15.00")
    again = redeem_coupon(coupon.code, email="tina@example.com", cart_total="150", currency="EUR")
    assert again.error == "This code has already been used."
    coupon.refresh_from_db()
    assert coupon.redeemed_at is not None
    assert EmailLog.objects.filter(email=coupon.reminder, message__contains="used for order").exists()

    fresh = issued_for_other_address()
    later = timezone.now() + timedelta(days=8)
    assert check_coupon(fresh.code, email="lars@example.com", cart_total="150", now=later).error == (
        "This code has expired."
    )


def issued_for_other_address() -> CartCoupon:
    cart = make_cart(idle_since=timezone.now() - hours(13), email="lars@example.com")
    sent_reminder(cart)
    return CartCoupon.objects.get(recipient="lars@example.com")


def test_the_code_keeps_its_terms_when_the_rule_changes():
    coupon = issued(value=Decimal("10"))
    CouponRule.objects.update(value=Decimal("50"))
    assert check_coupon(coupon.code, email="tina@example.com", cart_total="100").discount == Decimal("10.00")


def test_the_hooks_codes_are_not_ours_to_check(mail_settings):
    mail_settings(
        ABANDONED_CART_COUPON_ISSUER="tests.cart_helpers.issue_coupon", COMMERCIAL_FREQUENCY_CAP=None
    )
    row = sent_reminder(make_cart(idle_since=timezone.now() - hours(13), email="tina@example.com"))
    code = row.extra["coupon"]["code"]
    assert check_coupon(code, email="tina@example.com", cart_total="100").error == "This code does not exist."
