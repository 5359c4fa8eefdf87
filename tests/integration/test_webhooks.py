"""Tracking end to end: the worker sends through Anymail's real Postmark
backend to the fake ESP, then Postmark's webhook payloads are POSTed over
HTTP to the real Anymail webhook URL of a live server, with and without the
basic-auth credentials of ``ANYMAIL["WEBHOOK_SECRET"]``."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.db import transaction

from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import EmailLog, OutboxEmail, Status
from django_order_mail.tracking.models import Suppression, TrackingEvent
from tests.factories import OrderFactory
from tests.integration.conftest import wait_until
from tests.tracking_utils import (
    WEBHOOK_PASSWORD,
    WEBHOOK_SECRET,
    WEBHOOK_USER,
    postmark_bounce,
    postmark_click,
    postmark_delivery,
    postmark_open,
)

AUTH = (WEBHOOK_USER, WEBHOOK_PASSWORD)


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}


def transition(order, name, *args):
    with transaction.atomic():
        getattr(order, name)(*args)
        order.save()


def final(row_id):
    row = OutboxEmail.objects.get(pk=row_id)
    return row if row.is_final else None


def hook(live_server, payload, auth=AUTH):
    return requests.post(f"{live_server.url}/anymail/postmark/tracking/", json=payload, auth=auth, timeout=10)


def test_postmark_webhooks_drive_the_timeline_and_suppression(worker, fake_esp, live_server):
    order = OrderFactory()
    transition(order, "confirm_payment")
    [confirmation] = OutboxEmail.for_order(order)
    row = wait_until(lambda: final(confirmation.pk), what="confirmation sent")
    assert row.status == Status.SENT
    assert row.esp_message_id == fake_esp.accepted[0].message_id

    # Unauthenticated or wrong credentials: refused, nothing recorded.
    assert hook(live_server, postmark_bounce(row), auth=None).status_code == 400
    assert hook(live_server, postmark_bounce(row), auth=(WEBHOOK_USER, "guess")).status_code == 400
    assert not TrackingEvent.objects.exists() and not Suppression.objects.exists()

    # Opened before delivered, then everything twice (the ESP retries).
    for payload in (postmark_open(row), postmark_delivery(row), postmark_click(row)) * 2:
        assert hook(live_server, payload).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert (row.open_count, row.click_count) == (1, 1)
    assert TrackingEvent.objects.count() == 3
    assert list(EmailLog.objects.filter(email=row).values_list("status", flat=True))[-3:] == [
        "opened",
        "delivered",
        "clicked",
    ]

    # A hard bounce suppresses the address: the shipping email is logged as
    # suppressed and never reaches the ESP.
    assert hook(live_server, postmark_bounce(row)).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == "bounced"
    assert Suppression.objects.get().address == order.email
    transition(order, "ship", order.add_shipment("ups", "1Z999AA10123456784"))
    shipping = OutboxEmail.for_order(order).get(event=MailEvent.SHIPPING_CONFIRMATION)
    shipping = wait_until(lambda: final(shipping.pk), what="shipping email decided")
    assert shipping.status == Status.SUPPRESSED
    assert "hard bounce" in shipping.last_error
    assert len(fake_esp.accepted) == 1


def test_one_click_unsubscribe_from_the_header_the_esp_received(worker, fake_esp, live_server):
    order = OrderFactory()
    with transaction.atomic():
        [feedback] = enqueue(order, [PendingMail("feedback_request")])
    wait_until(lambda: final(feedback.pk), what="feedback request sent")
    [accepted] = fake_esp.accepted
    assert accepted.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = accepted.headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://shop.example/mail/unsubscribe/")

    # What a mail client does (RFC 8058): a cookie-less POST with this body.
    response = requests.post(
        live_server.url + urlsplit(url).path,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200
    entry = Suppression.objects.get()
    assert (entry.address, entry.scope) == (order.email, "commercial")

    # Transactional mail still goes; another commercial email does not.
    transition(order, "confirm_payment")
    confirmation = OutboxEmail.for_order(order).get(event=MailEvent.ORDER_CONFIRMATION)
    assert wait_until(lambda: final(confirmation.pk), what="confirmation").status == Status.SENT
    with transaction.atomic():
        [again] = enqueue(order, [PendingMail("feedback_request", discriminator="reminder")])
    assert wait_until(lambda: final(again.pk), what="reminder decided").status == Status.SUPPRESSED
    assert len(fake_esp.accepted) == 2
