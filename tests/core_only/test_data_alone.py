"""Retention, export and erasure with no feature app installed
(docs/data-protection.rst, docs/architecture.rst).

Run with ``--ds tests.core_only.settings --noconftest``: the core registers
its own kinds (the bodies, the staff emails and the send log), and everything works on them
alone, without importing one module of a feature app.
"""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_order_mail.data import ERASED, ERASED_ADDRESS
from django_order_mail.data.models import DataRequest
from django_order_mail.data.registry import registered
from django_order_mail.data.requests import DjangoJSONEncoder, erase_address, export_address
from django_order_mail.data.retention import retention_periods, run_retention
from django_order_mail.delivery.sender import deliver
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from tests.core_only.shop.models import Order
from tests.core_only.test_core_alone import FEATURES, feature_modules

pytestmark = pytest.mark.django_db

ADDRESS = "tina@example.com"


def sent_order(number: str, email: str = ADDRESS) -> Order:
    """An order whose confirmation and shipping emails were sent."""
    order = Order.objects.create(number=number, email=email, customer_name="Tina Tester")
    order.confirm_payment()
    order.save()
    order.ship(order.add_shipment("dhl", f"JD{number}"))
    order.save()
    for pk in OutboxEmail.objects.filter(reference=number).values_list("pk", flat=True):
        assert deliver(pk) == Status.SENT
    return order


def test_only_the_cores_kinds_are_registered():
    assert [e.label for e in registered()] == ["bodies", "staff_emails", "send_log"]
    assert retention_periods() == {"bodies": 90, "send_log": 730}
    assert feature_modules() == []


def test_retention_strips_bodies_then_deletes_rows_with_their_timelines():
    sent_order("C-3001")
    rows = OutboxEmail.objects.count()
    assert rows == 2 and not OutboxEmail.objects.filter(body_html="").exists()
    now = timezone.now()

    assert run_retention(now=now + timedelta(days=30)) == {"bodies": 0, "send_log": 0}
    assert run_retention(now=now + timedelta(days=91), dry_run=True) == {"bodies": rows, "send_log": 0}
    assert not OutboxEmail.objects.filter(body_html="").exists()  # a dry run changes nothing

    assert run_retention(now=now + timedelta(days=91)) == {"bodies": rows, "send_log": 0}
    assert OutboxEmail.objects.filter(body_html="", body_text="").count() == rows
    assert OutboxEmail.objects.exclude(subject="").count() == rows  # the log line stays
    assert EmailLog.objects.filter(email__reference="C-3001").exists()

    assert run_retention(now=now + timedelta(days=731)) == {"bodies": 0, "send_log": rows}
    assert not OutboxEmail.objects.exists()
    assert not EmailLog.objects.exists()
    assert feature_modules() == []


def test_the_retention_command_keeps_queued_rows():
    order = Order.objects.create(number="C-3002", email=ADDRESS)
    order.confirm_payment()
    order.save()
    OutboxEmail.objects.update(created_at=timezone.now() - timedelta(days=800))
    out = StringIO()
    call_command("order_mail_retention", stdout=out)
    assert out.getvalue().splitlines() == ["bodies (90 days): changed 0", "send_log (730 days): changed 0"]
    assert OutboxEmail.objects.get().status == Status.QUEUED


def test_export_holds_the_customers_emails_and_nothing_of_a_feature():
    sent_order("C-3003")
    sent_order("C-3004", email="someone.else@example.com")
    data = export_address(" Tina@Example.com ")
    assert set(data) == {"address", "exported_at", "send_log"}
    assert data["address"] == ADDRESS
    emails = data["send_log"]
    assert [e["event"] for e in emails] == ["order_confirmation", "shipping_confirmation"]
    assert {e["order_number"] for e in emails} == {"C-3003"}
    assert all("C-3003" in e["subject"] and e["sent_at"] for e in emails)
    assert all(e["timeline"] for e in emails)
    json.dumps(data, cls=DjangoJSONEncoder)  # JSON as it is downloaded
    assert feature_modules() == []


def test_erasure_forgets_the_address_keeps_the_statistics_and_is_logged():
    sent_order("C-3005")
    other = sent_order("C-3006", email="someone.else@example.com")
    before = list(OutboxEmail.objects.order_by("pk").values_list("event", "status", "sent_at"))

    out = StringIO()
    call_command("order_mail_forget", "TINA@example.com", stdout=out)

    assert "send_log: 2" in out.getvalue()
    mine = OutboxEmail.objects.filter(reference="C-3005")
    assert set(mine.values_list("recipient", "subject", "body_html", "body_text")) == {
        (ERASED_ADDRESS, ERASED, "", "")
    }
    assert not OutboxEmail.objects.filter(recipient__iexact=ADDRESS).exists()
    assert OutboxEmail.objects.filter(reference=other.number, recipient=other.email).count() == 2
    # Counts and statistics stay: event, status and dates of every row.
    assert list(OutboxEmail.objects.order_by("pk").values_list("event", "status", "sent_at")) == before
    entry = DataRequest.objects.get()
    # (no staff emails: the staff notifications are not set up here)
    assert entry.kind == DataRequest.Kind.ERASURE and entry.counts == {"staff_emails": 0, "send_log": 2}
    assert ADDRESS not in json.dumps(entry.counts) + entry.address_hash
    assert export_address(ADDRESS)["send_log"] == []
    assert erase_address(ADDRESS) == {"staff_emails": 0, "send_log": 0}
    assert feature_modules() == []


def test_retention_checks_know_only_the_cores_kinds_and_needs():
    base = {"SITE_URL": "https://shop.example"}
    with override_settings(ORDER_MAIL={**base, "RETENTION": {"carts": 30}}):
        [error] = [e for e in run_checks() if e.id.startswith("django_order_mail.")]
    assert error.id == "django_order_mail.E014"
    assert "'carts'" in error.msg and "INSTALLED_APPS" in error.hint
    # Without the tracking and feedback apps only the core's own links need the send log.
    with override_settings(ORDER_MAIL={**base, "RETENTION": {"send_log": 61}}):
        assert [e.id for e in run_checks() if e.id.startswith("django_order_mail.")] == []
    with override_settings(ORDER_MAIL={**base, "RETENTION": {"send_log": 59}}):
        [warning] = [e for e in run_checks() if e.id.startswith("django_order_mail.")]
    assert warning.id == "django_order_mail.W006" and "LINK_MAX_AGE_DAYS" in warning.msg
    assert not any(module.startswith(FEATURES) for module in feature_modules())
