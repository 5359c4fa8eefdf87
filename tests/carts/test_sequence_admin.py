"""The reminder sequence staff edit in the admin: defaults from the settings,
validation, the log of changes, and what the scan does with it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from django_order_mail.carts.models import ReminderSequence, ReminderStep
from django_order_mail.carts.sequence import all_steps, configured_steps, parse_steps
from django_order_mail.delivery.sender import deliver
from django_order_mail.policies.models import SettingChange
from tests.cart_helpers import T0, hours, make_cart, reminders, scan_at, steps_of
from tests.carts.staff_helpers import formset_data, rule, save_sequence, step_lines

pytestmark = pytest.mark.django_db

LIST = "admin:order_mail_carts_remindersequence_changelist"
ADD = "admin:order_mail_carts_remindersequence_add"
CHANGE = "admin:order_mail_carts_remindersequence_change"


@pytest.fixture(autouse=True)
def _broker(broker):
    return broker


# -- the settings until staff save ------------------------------------------------------------------


def test_without_a_saved_sequence_the_settings_apply_unchanged(mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24, 72])
    assert all_steps() == parse_steps([1, 24, 72])
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(1))
    [row] = reminders(cart)
    assert row.extra == {"step": 1, "steps": 3}  # nothing of the staff sequence on the row


def test_opening_the_page_writes_nothing_and_starts_from_the_settings(admin_client, mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24, 72])
    response = admin_client.get(reverse(LIST))
    assert response.status_code == 302 and response["Location"] == reverse(ADD)
    page = admin_client.get(reverse(ADD)).content.decode()
    assert not ReminderSequence.objects.exists()
    for i, value in enumerate(("1", "24", "72")):
        assert f'name="steps-{i}-after_hours" value="{value}"' in page
    assert 'name="steps-TOTAL_FORMS" value="3"' in page


def test_saving_the_form_unchanged_stores_the_settings_steps_and_logs_nothing(admin_client, mail_settings):
    mail_settings(ABANDONED_CART_STEPS=[1, 24, 72])
    lines = [{"number": n, "after_hours": h, "enabled": True} for n, h in ((1, 1), (2, 24), (3, 72))]
    response = admin_client.post(reverse(ADD), formset_data(lines))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert [(s.number, s.after_hours, s.enabled) for s in ReminderStep.objects.order_by("number")] == [
        (1, Decimal("1.00"), True),
        (2, Decimal("24.00"), True),
        (3, Decimal("72.00"), True),
    ]
    assert all_steps() == parse_steps([1, 24, 72])
    assert not SettingChange.objects.exists()  # same values as the settings: nothing changed


def test_a_change_is_logged_with_who_when_old_and_new(admin_client, admin_user):
    sequence = save_sequence({"number": 1, "after_hours": 1}, {"number": 2, "after_hours": 24})
    coupon = rule(name="Last call 10 %")
    lines = step_lines(sequence)
    lines[1].update(after_hours="36", coupon_rule=coupon.pk, subject="Still there, {{ customer_name }}?")
    response = admin_client.post(reverse(CHANGE, args=[sequence.pk]), formset_data(lines, initial=2))
    assert response.status_code == 302
    changes = {c.field: c for c in SettingChange.objects.all()}
    assert set(changes) == {"step2.after_hours", "step2.coupon_rule", "step2.subject"}
    delay = changes["step2.after_hours"]
    assert (delay.old_value, delay.new_value) == ("24", "36")
    assert delay.field_label == "Step 2 · Delay (hours)"
    assert delay.changed_by == admin_user and delay.changed_by_name == "admin"
    assert (changes["step2.coupon_rule"].old_value, changes["step2.coupon_rule"].new_value) == (
        "–",
        "Last call 10 %",
    )
    # The page shows its own history, and the log lists it.
    page = admin_client.get(reverse(CHANGE, args=[sequence.pk])).content.decode()
    assert "Step 2 · Delay (hours)" in page and "24 → 36" in page
    log = admin_client.get(reverse("admin:django_order_mail_settingchange_changelist")).content.decode()
    assert "Last call 10 %" in log


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            [(1, "24", True), (2, "12", True)],
            "Step 2 must come later than step 1: give it a longer delay than 24 hours.",
        ),
        ([(1, "1", True), (1, "24", True)], "Please correct the duplicate data for number."),
        ([(1, "0", True)], "The delay must be at least 0.1 hours (6 minutes)."),
        ([(1, "3000", True)], "The delay can be at most 90 days (2160 hours)."),
    ],
)
def test_bad_steps_are_refused_with_a_clear_message(admin_client, lines, message):
    data = formset_data([{"number": n, "after_hours": h, "enabled": on} for n, h, on in lines])
    response = admin_client.post(reverse(ADD), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ReminderSequence.objects.exists()


def test_removing_every_step_is_refused(admin_client):
    sequence = save_sequence({"number": 1, "after_hours": 12})
    lines = [{**line, "DELETE": True} for line in step_lines(sequence)]
    response = admin_client.post(reverse(CHANGE, args=[sequence.pk]), formset_data(lines, initial=1))
    assert "Keep at least one step; switch steps off to send no reminders." in response.content.decode()
    assert ReminderStep.objects.count() == 1


ORDER_ERROR = (
    "Step %(later)s must come later than step %(earlier)s: give it a longer delay than %(hours)s hours."
)


def test_errors_are_translated(admin_client):
    data = formset_data(
        [{"number": 1, "after_hours": "24", "enabled": True}, {"number": 2, "after_hours": "2"}]
    )
    response = admin_client.post(reverse(ADD), data, HTTP_ACCEPT_LANGUAGE="de")
    with translation.override("de"):
        expected = translation.gettext(ORDER_ERROR)
    assert expected != ORDER_ERROR
    assert expected % {"later": 2, "earlier": 1, "hours": "24"} in response.content.decode()


def test_staff_without_the_permission_cannot_change_the_sequence(client, django_user_model):
    sequence = save_sequence({"number": 1, "after_hours": 12})
    user = django_user_model.objects.create_user("viewer", "v@shop.example", "pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_remindersequence"))
    client.force_login(user)
    assert client.get(reverse(CHANGE, args=[sequence.pk])).status_code == 200
    lines = step_lines(sequence)
    lines[0]["after_hours"] = "1"
    response = client.post(reverse(CHANGE, args=[sequence.pk]), formset_data(lines, initial=1))
    assert response.status_code == 403
    assert ReminderStep.objects.get().after_hours == Decimal("12.00")


# -- what the scan does with it ----------------------------------------------------------------------


def test_the_next_scan_uses_a_changed_delay():
    sequence = save_sequence({"number": 1, "after_hours": 12})
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(2))
    assert steps_of(cart) == []
    ReminderStep.objects.filter(sequence=sequence).update(after_hours=2)
    scan_at(T0 + hours(2))
    assert steps_of(cart) == [1]


def test_a_step_switched_off_is_passed_over():
    save_sequence(
        {"number": 1, "after_hours": 1},
        {"number": 2, "after_hours": 24, "enabled": False},
        {"number": 3, "after_hours": 72},
    )
    assert [s.number for s in configured_steps()] == [1, 3]
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(1))
    scan_at(T0 + hours(30))
    assert steps_of(cart) == [1]  # step 2 is off: no reminder at 24 h
    scan_at(T0 + hours(72))
    assert steps_of(cart) == [1, 3]
    assert [r.extra["steps"] for r in reminders(cart)] == [3, 3]
    assert reminders(cart)[-1].idempotency_key.endswith(":step-3")


def test_switching_the_last_step_off_ends_the_sequence_earlier():
    save_sequence({"number": 1, "after_hours": 1}, {"number": 2, "after_hours": 24, "enabled": False})
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(1))
    scan_at(T0 + hours(100))
    assert steps_of(cart) == [1]
    assert reminders(cart)[0].extra["steps"] == 1  # "the last reminder" in the email


def test_the_first_step_switched_off_starts_the_sequence_at_the_next_one():
    save_sequence({"number": 1, "after_hours": 1, "enabled": False}, {"number": 2, "after_hours": 24})
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(2))
    assert steps_of(cart) == []
    scan_at(T0 + hours(24))
    assert steps_of(cart) == [2]


def test_a_cart_reminded_by_a_step_now_off_waits_for_the_gap():
    """Step 1 sent, then staff switched it off: step 2 still waits its
    gap after that reminder, never two reminders in a row."""
    sequence = save_sequence({"number": 1, "after_hours": 1}, {"number": 2, "after_hours": 24})
    cart = make_cart(idle_since=T0)
    scan_at(T0 + hours(20))  # late: step 1 now, step 2 not before 20 + 23 h
    assert steps_of(cart) == [1]
    sequence.steps.filter(number=1).update(enabled=False)
    scan_at(T0 + hours(30))
    assert steps_of(cart) == [1]
    scan_at(T0 + hours(43))
    assert steps_of(cart) == [1, 2]


def test_a_written_reminder_keeps_the_subject_of_its_step(esp):
    sequence = save_sequence(
        {"number": 1, "after_hours": 12, "subject": "Your cart misses you, {{ customer_name }}"}
    )
    from django.utils import timezone

    now = timezone.now()
    cart = make_cart(idle_since=now - hours(13), customer_name="Tina")
    scan_at(now)
    [row] = reminders(cart)
    sequence.steps.update(subject="Changed later")
    deliver(row.pk)
    row.refresh_from_db()
    assert row.subject == "Your cart misses you, Tina"


def test_a_step_subject_applies_only_in_its_language(esp):
    from django.utils import timezone

    save_sequence(
        {"number": 1, "after_hours": 12, "subject": "Dein Warenkorb wartet", "subject_language": "de"}
    )
    now = timezone.now()
    german = make_cart(idle_since=now - hours(13), language="de")
    english = make_cart(idle_since=now - hours(13), language="en")
    scan_at(now)
    for cart in (german, english):
        deliver(reminders(cart)[0].pk)
    assert reminders(german)[0].subject == "Dein Warenkorb wartet"
    assert reminders(english)[0].subject != "Dein Warenkorb wartet"
    assert reminders(english)[0].subject  # the template's own, in English
