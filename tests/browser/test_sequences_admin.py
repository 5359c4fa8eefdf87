"""Staff run the reminders without a developer, in a real browser: they
change the abandoned-cart sequence (a step's delay and coupon, a step
switched off) and the next scan follows it, with the change logged; they
create a coupon rule and the reminder carries one of its codes; the cart
list answers "how much, where is it, what comes next" at a glance.

The scan is the real one, run at chosen moments (``scan(now=...)``) instead
of waiting hours.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from django_order_mail.carts.models import CartCoupon, CouponRule, ReminderStep
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import Status
from django_order_mail.policies.models import SettingChange
from tests.cart_helpers import T0, hours, make_cart, reminders, scan_at, steps_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEQUENCE = "/admin/order_mail_carts/remindersequence/"


@pytest.fixture
def shop(site, settings):
    settings.ROOT_URLCONF = "tests.browser.sequence_urls"
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "COMMERCIAL_FREQUENCY_CAP": None}
    return site


def test_staff_change_step_2_and_switch_step_3_off_and_the_next_scan_follows(staff_page, shop, settings):
    settings.ORDER_MAIL = {**settings.ORDER_MAIL, "ABANDONED_CART_STEPS": [1, 24, 72]}
    CouponRule.objects.create(name="Last call 10 %", kind="percent", value=Decimal("10"))
    page = staff_page
    page.goto(shop + SEQUENCE)
    # Nobody saved a sequence yet: the page starts from the settings' steps.
    expect(page.locator("#id_steps-0-after_hours")).to_have_value("1")
    expect(page.locator("#id_steps-1-after_hours")).to_have_value("24")
    expect(page.locator("#id_steps-2-after_hours")).to_have_value("72")

    page.fill("#id_steps-1-after_hours", "30")
    page.select_option("#id_steps-1-coupon_rule", label="Last call 10 %")
    page.uncheck("#id_steps-2-enabled")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("The next scan uses these steps")

    step2 = ReminderStep.objects.get(number=2)
    assert step2.after_hours == Decimal("30") and step2.coupon_rule.name == "Last call 10 %"
    assert not ReminderStep.objects.get(number=3).enabled

    # The next scans, at chosen moments.
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(1))
    assert steps_of(cart) == [1]
    scan_at(T0 + hours(29))
    assert steps_of(cart) == [1]  # step 2 waits 30 hours now, not 24
    scan_at(T0 + hours(30))
    assert steps_of(cart) == [1, 2]
    second = reminders(cart)[-1]
    assert second.extra["coupon_rule"] == step2.coupon_rule_id and second.extra["steps"] == 2
    scan_at(T0 + hours(200))
    assert steps_of(cart) == [1, 2]  # step 3 is off

    # The change is logged: who, what, old and new.
    page.goto(shop + "/admin/django_order_mail/settingchange/")
    rows = page.locator("#result_list tbody tr")
    delay = rows.filter(has_text="Step 2 · Delay (hours)")
    expect(delay).to_contain_text("anna")
    expect(delay.locator("td.field-old_value")).to_have_text("24")
    expect(delay.locator("td.field-new_value")).to_have_text("30")
    expect(rows.filter(has_text="Step 2 · Coupon").locator("td.field-new_value")).to_have_text(
        "Last call 10 %"
    )
    switched = rows.filter(has_text="Step 3 · On")
    expect(switched.locator("td.field-old_value")).to_have_text("yes")
    expect(switched.locator("td.field-new_value")).to_have_text("no")
    assert SettingChange.objects.filter(changed_by__username="anna").count() == 3


def test_staff_create_a_coupon_rule_and_the_reminder_carries_its_code(staff_page, shop, broker, esp):
    page = staff_page
    page.goto(shop + "/admin/order_mail_carts/couponrule/add/")
    page.fill("#id_name", "Come back 15 %")
    page.select_option("#id_kind", "percent")
    page.fill("#id_value", "15")
    page.fill("#id_minimum_cart_value", "50")
    page.fill("#id_valid_days", "10")
    page.fill("#id_code_prefix", "BACK-")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Come back 15 %")
    coupon_rule = CouponRule.objects.get()

    # A percentage over 100 is refused, with the reason at the field.
    page.goto(shop + "/admin/order_mail_carts/couponrule/add/")
    page.fill("#id_name", "Too generous")
    page.fill("#id_value", "150")
    page.click("input[name=_save]")
    expect(page.locator(".field-value .errorlist")).to_have_text("A percentage must be between 1 and 100.")

    # The rule on the one step of the default sequence.
    page.goto(shop + SEQUENCE)
    page.select_option("#id_steps-0-coupon_rule", label="Come back 15 %")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("The next scan uses these steps")

    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), email="tina@example.com")
    scan_at(now)
    [row] = reminders(cart)
    assert deliver(row.pk) == Status.SENT
    row.refresh_from_db()
    coupon = CartCoupon.objects.get(rule=coupon_rule)
    assert re.fullmatch(r"BACK-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", coupon.code)
    assert coupon.recipient == "tina@example.com"

    # The email as the customer sees it carries the code and what it is worth.
    page.set_content(row.body_html)
    expect(page.get_by_text(coupon.code)).to_be_visible()
    expect(page.locator("body")).to_contain_text("15% off orders from")

    # Staff see the code in the list of codes given.
    page.goto(shop + "/admin/order_mail_carts/cartcoupon/")
    expect(page.locator("#result_list")).to_contain_text(coupon.code)
    expect(page.locator("#result_list")).to_contain_text("Come back 15 %")


def test_the_cart_list_shows_value_status_and_next_reminder(staff_page, shop):
    now = timezone.now()
    waiting = make_cart(idle_since=now - hours(2), email="tina@example.com")
    ordered = make_cart(idle_since=now - hours(2), email="lars@example.com")
    ordered.mark_ordered(None)
    page = staff_page
    page.goto(shop + "/cart-admin/testapp/cart/")
    headers = page.locator("#result_list thead")
    for title in ("Value", "Status", "Next reminder"):
        expect(headers).to_contain_text(title)
    row = page.locator("#result_list tbody tr").filter(has_text=waiting.email)
    expect(row.locator("td.field-cart_value")).to_have_text("€168.80")
    expect(row.locator("td.field-cart_status")).to_have_text("Open")
    expect(row.locator("td.field-next_reminder")).to_contain_text("Step 1 at")
    done = page.locator("#result_list tbody tr").filter(has_text=ordered.email)
    expect(done.locator("td.field-cart_status")).to_have_text("Ordered")
    expect(done.locator("td.field-next_reminder")).to_have_text("–")
