"""The core with no feature app installed (docs/architecture.rst).

Run with ``--ds tests.core_only.settings --noconftest`` (scripts/test.sh):
the project installs only ``django_order_mail`` and a minimal shop. Every
order-lifecycle email must still be written, rendered and sent, the admin
must work, and not one module of a feature app may be imported.
"""

import sys
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent, StaffEvent, registered_events
from django_order_mail.outbox.models import OutboxEmail, Status
from tests.core_only.shop.models import Order

pytestmark = pytest.mark.django_db

FEATURES = (
    "django_order_mail.tracking",
    "django_order_mail.feedback",
    "django_order_mail.carts",
    "django_order_mail.marketplaces",
    "django_order_mail.carrier_tracking",
    "django_order_mail.reviews",
    "django_order_mail.recommendations",
)


def feature_modules() -> list[str]:
    return sorted(m for m in sys.modules if m.startswith(FEATURES))


def send_all() -> dict[str, str]:
    return {row.event: deliver(row.pk) for row in OutboxEmail.objects.order_by("pk")}


def test_the_project_checks_clean_and_its_migrations_are_in_step():
    assert not [a for a in FEATURES if apps.is_installed(a)]
    assert [str(m) for m in run_checks()] == []
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_core_beat_schedule_runs_only_core_tasks():
    from celery import current_app

    import django_order_mail.tasks  # noqa: F401 - registers the core's tasks
    from django_order_mail.delivery.schedule import beat_schedule

    assert [entry["task"] for entry in beat_schedule().values()] == ["django_order_mail.sweep"]
    assert all(entry["task"] in current_app.tasks for entry in beat_schedule().values())


def test_only_the_core_events_are_registered():
    # The order-lifecycle emails and the core's staff notifications (off
    # until set up in the admin, so the lifecycle test below sends none).
    assert [e.name for e in registered_events()] == [*MailEvent.values, *StaffEvent.values]


def test_every_lifecycle_email_is_sent_and_no_feature_is_imported():
    mail.outbox.clear()
    order = Order.objects.create(number="C-1001", email="tina@example.com", customer_name="Tina")
    order.confirm_payment()
    order.save()
    order.notify_order_edited(["Mug: blue → green"], reason_code="customer_request")
    order.freeze(reason_code="payment_verification")
    order.save()
    order.release_hold()
    order.save()
    parcel = order.add_shipment("dhl", "JD014600003828")
    order.ship(parcel)
    order.save()
    parcel.tracking_number = "JD014600003829"
    parcel.save()
    order.notify_shipping_update(parcel)
    order.mark_out_for_delivery(parcel)
    order.save()
    order.mark_delivered()
    order.save()
    order.refund(amount=Decimal("9.90"), reason_code="damaged")
    order.save()

    unpaid = Order.objects.create(number="C-1002", email="tina@example.com", customer_name="Tina")
    unpaid.fail_payment(reason_code="card_declined")
    unpaid.save()
    unpaid.cancel(reason_code="out_of_stock")
    unpaid.save()

    outcome = send_all()
    assert outcome == {event: Status.SENT for event in MailEvent.values}
    # Without the feedback app nothing schedules a feedback request.
    assert not OutboxEmail.objects.exclude(event__in=MailEvent.values).exists()
    assert len(mail.outbox) == len(MailEvent.values)
    for message in mail.outbox:
        assert message.to == ["tina@example.com"]
        assert "C-100" in message.subject
        assert "List-Unsubscribe" not in message.extra_headers  # transactional mail only
    assert feature_modules() == []


def test_the_core_admin_pages_work(admin_client):
    order = Order.objects.create(number="C-2001", email="tina@example.com")
    order.confirm_payment()
    order.save()
    row = OutboxEmail.objects.get()
    for url in (
        reverse("admin:django_order_mail_outboxemail_changelist"),
        reverse("admin:django_order_mail_outboxemail_change", args=[row.pk]),
        reverse("admin:django_order_mail_emailtemplate_changelist"),
        reverse("admin:django_order_mail_branding_add"),
        reverse("admin:index"),
    ):
        assert admin_client.get(url).status_code == 200, url
    assert feature_modules() == []


@override_settings(ORDER_MAIL={"SITE_URL": "https://shop.example", "FEEDBACK_SCALE": "nps"})
def test_a_setting_of_a_feature_that_is_not_installed_is_reported():
    errors = [e for e in run_checks() if e.id == "django_order_mail.E002"]
    assert len(errors) == 1
    assert "FEEDBACK_SCALE" in errors[0].msg and "INSTALLED_APPS" in errors[0].hint
