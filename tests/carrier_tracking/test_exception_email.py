"""The delivery-exception email: written through the outbox in the webhook's
transaction, once per parcel and kind of exception (the kind is the
idempotency key's discriminator), rendered in the customer's language with
no failed template lookup, and never with the carrier's own words."""

from __future__ import annotations

from collections import Counter

import pytest
from django.template import base

from django_order_mail.carrier_tracking.events import DELIVERY_EXCEPTION
from django_order_mail.delivery.sender import deliver
from django_order_mail.events import COMMERCIAL_EVENTS, SHIPMENT_EVENTS, get_event
from django_order_mail.outbox.models import OutboxEmail, Status
from django_order_mail.rendering.context import build_context
from django_order_mail.rendering.render import render_event
from django_order_mail.rendering.sample import sample_context
from tests.carrier_tracking.helpers import (
    AFTERSHIP_NUMBER,
    aftership_body,
    easypost_body,
    fresh,
    post_aftership,
    post_easypost,
)
from tests.test_translations import TRANSLATED, english_sentences, visible_text

pytestmark = pytest.mark.django_db

KINDS = {
    # kind: (AfterShip tag, subtag), subject
    "attempt_failed": (("AttemptFail", ""), "The carrier could not deliver your order {n}"),
    "customs_hold": (("Exception", "Exception_004"), "Your order {n} is held at customs"),
    "returned_to_sender": (("Exception", "Exception_011"), "Your order {n} is on its way back to us"),
    "available_for_pickup": (("AvailableForPickup", ""), "Your order {n} is waiting at a pickup point"),
}


def exception_rows(order):
    return list(OutboxEmail.for_order(order).filter(event=DELIVERY_EXCEPTION).order_by("pk"))


def test_the_event_is_registered_transactional_and_per_parcel():
    event = get_event(DELIVERY_EXCEPTION)
    assert event is not None and event.per_shipment and not event.internal and not event.commercial
    assert DELIVERY_EXCEPTION in SHIPMENT_EVENTS and DELIVERY_EXCEPTION not in COMMERCIAL_EVENTS


@pytest.mark.parametrize("kind", KINDS)
def test_each_exception_is_emailed_once_with_its_kind(client, providers, shipped, kind):
    (tag, subtag), _subject = KINDS[kind]
    post_aftership(client, aftership_body(tag, subtag, checkpoint_time="2026-03-02T10:00:00Z"))
    # The same exception again (a second failed attempt, another event id): no second email.
    post_aftership(client, aftership_body(tag, subtag, checkpoint_time="2026-03-02T16:00:00Z"))
    [row] = exception_rows(shipped)
    [parcel] = shipped.shipments
    assert row.idempotency_key == f"testapp.order:{shipped.pk}:{DELIVERY_EXCEPTION}:{parcel.pk}:{kind}"
    assert row.extra == {"exception": kind}
    assert row.shipment_id == parcel.pk and row.status == Status.QUEUED
    assert row.recipient == shipped.email


def test_another_kind_is_another_email(client, providers, shipped):
    post_aftership(client, aftership_body("AttemptFail", checkpoint_time="2026-03-02T10:00:00Z"))
    post_aftership(client, aftership_body("AvailableForPickup", checkpoint_time="2026-03-02T18:00:00Z"))
    assert [r.extra["exception"] for r in exception_rows(shipped)] == [
        "attempt_failed",
        "available_for_pickup",
    ]


def test_carrier_exceptions_that_are_not_listed_email_nobody(client, providers, shipped):
    """Damaged, lost, refused, weather: recorded for staff, the shop decides
    what to tell the customer."""
    for subtag in ("Exception_012", "Exception_013", "Exception_003", "Exception_005"):
        post_aftership(client, aftership_body("Exception", subtag))
    post_easypost(client, easypost_body("in_transit", "weather_delay", number=AFTERSHIP_NUMBER))
    assert exception_rows(shipped) == []


def test_easypost_exceptions(client, providers, shipped):
    post_easypost(
        client,
        easypost_body(
            "in_transit", "held", number=AFTERSHIP_NUMBER, message="Held in Customs, awaiting duties"
        ),
    )
    post_easypost(client, easypost_body("return_to_sender", "return", number=AFTERSHIP_NUMBER))
    assert [r.extra["exception"] for r in exception_rows(shipped)] == ["customs_hold", "returned_to_sender"]


def test_the_email_of_a_refunded_order_is_recorded_as_skipped(client, providers, shipped):
    order = fresh(shipped)
    order.refund()
    order.save()
    post_aftership(client, aftership_body("Exception", "Exception_011"))
    [row] = exception_rows(shipped)
    assert row.status == Status.SKIPPED and row.last_error == "the order is refunded"


def test_a_disabled_event_is_recorded_as_skipped(client, providers, shipped, mail_settings):
    mail_settings(DISABLED_EVENTS=[DELIVERY_EXCEPTION])
    post_aftership(client, aftership_body("AttemptFail"))
    [row] = exception_rows(shipped)
    assert row.status == Status.SKIPPED


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


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
@pytest.mark.parametrize("kind", KINDS)
def test_it_renders_in_the_customers_language_without_a_failed_lookup(
    shipped, kind, language, failed_lookups
):
    [parcel] = shipped.shipments
    context = build_context(
        shipped, DELIVERY_EXCEPTION, shipment=parcel, extra={"exception": kind}, email_id=1
    )
    email = render_event(DELIVERY_EXCEPTION, context, language=language)
    assert dict(failed_lookups) == {}
    assert email.language == language and f'<html lang="{language}"' in email.html
    assert AFTERSHIP_NUMBER in email.text and AFTERSHIP_NUMBER in email.html
    english = render_event(DELIVERY_EXCEPTION, context, language="en")
    assert english.subject == KINDS[kind][1].format(n=shipped.number)
    if language == "en":
        assert "What you can do" in email.text and "Hi Tina," in email.text
        return
    # Every kind, not only the one tests/test_translations.py renders: no
    # English sentence of the catalogue is left in any part.
    assert shipped.number in email.subject and email.subject != english.subject
    page = visible_text(email.html)
    leftovers = [s for s in english_sentences(language) if s in email.text or s in page or s in email.subject]
    assert leftovers == []


def test_the_german_email_is_german(shipped):
    [parcel] = shipped.shipments
    context = build_context(
        shipped, DELIVERY_EXCEPTION, shipment=parcel, extra={"exception": "customs_hold"}, email_id=1
    )
    email = render_event(DELIVERY_EXCEPTION, context, language="de")
    assert email.subject == f"Ihre Bestellung {shipped.number} wird beim Zoll festgehalten"
    assert "Was Sie tun können" in email.text and "Paket verfolgen" in email.text


def test_it_is_sent_like_any_email_and_carries_no_carrier_text(client, providers, shipped, esp):
    post_aftership(client, aftership_body("AttemptFail"))
    [row] = exception_rows(shipped)
    assert deliver(row.pk) == Status.SENT
    [message] = esp.sent
    assert message.subject == f"The carrier could not deliver your order {shipped.number}"
    assert "USPS Awaiting Item" not in message.body  # the carrier's checkpoint text is for staff


def test_staff_previews_render_every_kind():
    context = sample_context(DELIVERY_EXCEPTION)
    assert context["delivery_exception"]["kind"] == "attempt_failed"
    email = render_event(DELIVERY_EXCEPTION, context)
    assert email.subject == "The carrier could not deliver your order 1001"
