"""Parcels without a carrier scan for CARRIER_TRACKING_STALE_DAYS: the admin's
filter and the daily staff digest (one per day, through the outbox)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.template import base
from django.urls import reverse
from django.utils import timezone

from django_order_mail.carrier_tracking.events import STALE_SHIPMENTS_DIGEST
from django_order_mail.carrier_tracking.models import ShipmentTracking
from django_order_mail.carrier_tracking.schedule import beat_schedule
from django_order_mail.carrier_tracking.stale import stale_shipments, write_digest
from django_order_mail.carrier_tracking.tasks import TASK, carrier_tracking_digest
from django_order_mail.delivery.sender import deliver
from django_order_mail.events import INTERNAL_EVENTS
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context
from tests.carrier_tracking.helpers import ship
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def parcel(number: str, *, shipped_days_ago: float, scanned_days_ago: float | None = None, **tracking):
    order = OrderFactory()
    [shipment] = ship(order, number)
    shipment.shipped_at = NOW - timedelta(days=shipped_days_ago)
    shipment.save()
    if scanned_days_ago is not None or tracking:
        last = NOW - timedelta(days=scanned_days_ago) if scanned_days_ago is not None else None
        ShipmentTracking.objects.create(
            shipment=shipment, tracking_number=number, last_scan_at=last, **tracking
        )
    return shipment


@pytest.fixture
def parcels(broker):
    return {
        "never_scanned": parcel("NEVER00001", shipped_days_ago=8),
        "silent": parcel("SILENT0001", shipped_days_ago=12, scanned_days_ago=6, status="in_transit"),
        "fresh": parcel("FRESH00001", shipped_days_ago=12, scanned_days_ago=1, status="in_transit"),
        "just_shipped": parcel("NEW0000001", shipped_days_ago=2),
        "delivered": parcel("DONE000001", shipped_days_ago=12, scanned_days_ago=9, status="delivered"),
        "returned": parcel(
            "BACK000001", shipped_days_ago=12, scanned_days_ago=9, status="returned_to_sender"
        ),
        "ancient": parcel("OLD0000001", shipped_days_ago=90),
    }


def test_stale_means_silent_for_n_days_not_done_and_not_ancient(parcels):
    found = list(stale_shipments(NOW).values_list("tracking_number", flat=True))
    assert found == ["NEVER00001", "SILENT0001"]  # longest silent first


def test_the_days_are_a_setting(parcels, mail_settings):
    mail_settings(CARRIER_TRACKING_STALE_DAYS=1)
    assert set(stale_shipments(NOW).values_list("tracking_number", flat=True)) == {
        "NEVER00001",
        "SILENT0001",
        "NEW0000001",
    }
    mail_settings(CARRIER_TRACKING_STALE_DAYS=5, CARRIER_TRACKING_STALE_LOOKBACK_DAYS=120)
    assert "OLD0000001" in set(stale_shipments(NOW).values_list("tracking_number", flat=True))


def test_a_delivered_parcel_is_never_stale(parcels):
    parcels["never_scanned"].delivered_at = NOW
    parcels["never_scanned"].save()
    assert list(stale_shipments(NOW).values_list("tracking_number", flat=True)) == ["SILENT0001"]


def test_the_admin_filter_shows_the_stale_parcels(admin_client, parcels):
    url = reverse("admin:order_mail_carrier_tracking_carriershipment_changelist")
    page = admin_client.get(url, {"no_scan": "stale"})
    assert page.status_code == 200
    shown = {s.tracking_number for s in page.context["cl"].result_list}
    assert shown == {"NEVER00001", "SILENT0001"}
    assert "No carrier scan for 5 days or more" in page.content.decode()
    everything = admin_client.get(url)
    assert {s.tracking_number for s in everything.context["cl"].result_list} == {
        p.tracking_number for p in parcels.values()
    }
    by_status = admin_client.get(url, {"carrier_status": "none"})
    assert {s.tracking_number for s in by_status.context["cl"].result_list} == {
        "NEVER00001",
        "NEW0000001",
        "OLD0000001",
    }
    detail = admin_client.get(
        reverse("admin:order_mail_carrier_tracking_carriershipment_change", args=[parcels["silent"].pk])
    )
    assert detail.status_code == 200 and "In transit" in detail.content.decode()


def test_the_event_log_is_read_only_in_the_admin(admin_client):
    url = reverse("admin:order_mail_carrier_tracking_carrierevent_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(reverse("admin:order_mail_carrier_tracking_carrierevent_add")).status_code == 403


# -- the digest ----------------------------------------------------------------------------------------


def digest_rows():
    return list(OutboxEmail.objects.filter(event=STALE_SHIPMENTS_DIGEST))


def test_the_digest_is_written_once_a_day(parcels):
    digest = write_digest(NOW)
    assert digest is not None and digest.day == timezone.localdate(NOW)
    assert write_digest(NOW) is None
    assert write_digest(NOW.replace(hour=0, minute=1)) is None  # the same day, whatever the hour
    assert write_digest(NOW.replace(hour=23, minute=59)) is None
    [row] = digest_rows()
    assert row.status == Status.QUEUED and row.recipient == "help@shop.example"  # BRANDING's support address
    assert row.extra == {"count": 2} and row.object_id == str(digest.pk)
    assert STALE_SHIPMENTS_DIGEST in INTERNAL_EVENTS
    # The next day is another digest.
    assert write_digest(NOW + timedelta(days=1)) is not None
    assert len(digest_rows()) == 2


def test_the_digest_goes_to_its_own_address_when_set(parcels, mail_settings):
    mail_settings(CARRIER_TRACKING_DIGEST_EMAIL="logistics@shop.example")
    write_digest(NOW)
    assert digest_rows()[0].recipient == "logistics@shop.example"


def test_without_any_staff_address_it_is_recorded_as_skipped(parcels, mail_settings, settings):
    mail_settings(BRANDING={"name": "Test Shop"})
    write_digest(NOW)
    [row] = digest_rows()
    assert row.status == Status.SKIPPED and "CARRIER_TRACKING_DIGEST_EMAIL" in row.last_error


def test_no_stale_parcel_no_email(broker):
    parcel("FRESH00002", shipped_days_ago=3, scanned_days_ago=1)
    assert write_digest(NOW) is not None  # the day is done...
    assert digest_rows() == []  # ...without an email
    assert write_digest(NOW) is None


def test_the_task_and_its_beat_entry(parcels):
    assert carrier_tracking_digest.name == TASK
    assert carrier_tracking_digest() == 2
    assert carrier_tracking_digest() == 0
    [entry] = beat_schedule().values()
    assert entry["task"] == TASK


@pytest.fixture
def failed_lookups(monkeypatch):
    failed: Counter = Counter()
    original = base.Variable._resolve_lookup

    def recording(self, context):
        try:
            return original(self, context)
        except base.VariableDoesNotExist:
            failed[self.var] += 1
            raise

    monkeypatch.setattr(base.Variable, "_resolve_lookup", recording)
    return failed


def test_the_digest_is_sent_to_staff_listing_each_parcel(parcels, esp, failed_lookups):
    write_digest(NOW)
    [row] = digest_rows()
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert message.to == ["help@shop.example"]
    assert message.subject == "2 parcels without a carrier scan for 5+ days"
    assert "NEVER00001" in message.body and "SILENT0001" in message.body and "FRESH00001" not in message.body
    assert "8 days without scan" in message.body and "6 days without scan" in message.body
    assert "/admin/order_mail_carrier_tracking/carriershipment/?no_scan=stale" in message.body
    assert dict(failed_lookups) == {}


def test_the_digest_renders_in_german_for_a_german_shop(parcels, settings):
    settings.LANGUAGE_CODE = "de"
    digest = write_digest(NOW)
    [row] = digest_rows()
    assert row.language == "de"
    context = build_context(digest, STALE_SHIPMENTS_DIGEST, extra=row.extra, email_id=row.pk)
    email = render_event(STALE_SHIPMENTS_DIGEST, context, language="de")
    assert "Sendungsnummer" in email.html and "carrier scan" not in email.subject


def test_staff_previews_use_the_sample_digest():
    context = sample_context(STALE_SHIPMENTS_DIGEST)
    email = render_event(STALE_SHIPMENTS_DIGEST, context)
    assert email.subject == "2 parcels without a carrier scan for 5+ days"
    assert "JD014600003828" in email.text
