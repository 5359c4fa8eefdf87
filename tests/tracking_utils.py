"""Helpers of the tracking tests: sent rows and real ESP webhook payloads.

The payloads follow Postmark's and SendGrid's documented webhook bodies (the
shapes Anymail's own test-suite posts), so they go through Anymail's real
parsing in ``anymail.webhooks.postmark`` / ``anymail.webhooks.sendgrid``.
"""

from __future__ import annotations

import base64
import json

from django.db import transaction

from django_order_mail.delivery.sender import deliver
from django_order_mail.events import MailEvent
from django_order_mail.outbox.enqueue import PendingMail, enqueue
from django_order_mail.outbox.models import OutboxEmail

WEBHOOK_USER = "order-mail-hook"
WEBHOOK_PASSWORD = "s3cret-Pa55"
WEBHOOK_SECRET = f"{WEBHOOK_USER}:{WEBHOOK_PASSWORD}"
POSTMARK_URL = "/anymail/postmark/tracking/"
SENDGRID_URL = "/anymail/sendgrid/tracking/"


def basic_auth(secret: str = WEBHOOK_SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post_json(client, url: str, payload, *, auth: str | None = WEBHOOK_SECRET):
    extra = basic_auth(auth) if auth else {}
    return client.post(url, data=json.dumps(payload), content_type="application/json", **extra)


def queued_row(order, event: str = MailEvent.ORDER_CONFIRMATION, discriminator: str = "") -> OutboxEmail:
    with transaction.atomic():
        [row] = enqueue(order, [PendingMail(event, discriminator=discriminator)])
    return row


def sent_row(order, event: str = MailEvent.ORDER_CONFIRMATION, discriminator: str = "") -> OutboxEmail:
    """A row the (controlled) ESP accepted; needs the ``broker`` and ``esp`` fixtures."""
    row = queued_row(order, event, discriminator)
    assert deliver(row.pk) == "sent"
    row.refresh_from_db()
    return row


# --- Postmark (https://postmarkapp.com/developer/webhooks) ------------------------------------


def postmark_delivery(row, at="2026-03-02T10:00:05Z"):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": row.esp_message_id,
        "Recipient": row.recipient,
        "Tag": row.event,
        "DeliveredAt": at,
        "Details": "smtp;250 2.0.0 OK 1711111111 gsmtp",
        "Metadata": {"outbox_id": str(row.pk), "event": row.event},
    }


def postmark_open(row, at="2026-03-02T10:05:00Z", first=True):
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": first,
        "Client": {"Name": "Gmail", "Company": "Google", "Family": "Gmail"},
        "OS": {"Name": "unknown", "Company": "unknown", "Family": "unknown"},
        "Platform": "WebMail",
        "UserAgent": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0",
        "ReadSeconds": 4,
        "Geo": {},
        "MessageID": row.esp_message_id,
        "Metadata": {"outbox_id": str(row.pk)},
        "ReceivedAt": at,
        "Tag": row.event,
        "Recipient": row.recipient,
    }


def postmark_click(row, at="2026-03-02T10:06:00Z", link="https://shop.example/orders/1/"):
    return {
        "RecordType": "Click",
        "MessageStream": "outbound",
        "ClickLocation": "HTML",
        "Platform": "Desktop",
        "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5)",
        "OriginalLink": link,
        "Geo": {},
        "MessageID": row.esp_message_id,
        "Metadata": {"outbox_id": str(row.pk)},
        "ReceivedAt": at,
        "Tag": row.event,
        "Recipient": row.recipient,
    }


def postmark_bounce(row, kind="HardBounce", bounce_id=901542550, at="2026-03-02T10:00:07Z"):
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": bounce_id,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": row.event,
        "MessageID": row.esp_message_id,
        "Metadata": {"outbox_id": str(row.pk)},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": row.recipient,
        "From": "orders@shop.example",
        "BouncedAt": at,
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": row.subject,
    }


def postmark_spam(row, complaint_id=901542999, at="2026-03-03T08:00:00Z"):
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": complaint_id,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
        "Tag": row.event,
        "MessageID": row.esp_message_id,
        "Metadata": {"outbox_id": str(row.pk)},
        "ServerID": 23,
        "Description": "",
        "Details": "Test spam complaint details",
        "Email": row.recipient,
        "From": "orders@shop.example",
        "BouncedAt": at,
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": row.subject,
    }


def postmark_unsubscribe(row, at="2026-03-03T09:00:00Z", suppress=True):
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": row.esp_message_id,
        "ServerID": 23,
        "MessageStream": "outbound",
        "ChangedAt": at,
        "Recipient": row.recipient,
        "Origin": "Recipient",
        "SuppressSending": suppress,
        "SuppressionReason": "ManualSuppression" if suppress else None,
        "Tag": row.event,
        "Metadata": {"outbox_id": str(row.pk)},
    }


# --- SendGrid (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event) --------


def sendgrid_event(row, event: str, sg_event_id: str, timestamp: int = 1772445600, **extra):
    payload = {
        "email": row.recipient,
        "timestamp": timestamp,
        "smtp-id": "<wrfRRvF7Q0GgwUo2CvDmEA@ismtpd0006p1sjc2.sendgrid.net>",
        "event": event,
        "sg_event_id": sg_event_id,
        "sg_message_id": "wrfRRvF7Q0GgwUo2CvDmEA.filter0425p1mdw1.13037.57168B4A1D.0",
        "anymail_id": row.esp_message_id,
        "category": [row.event],
        "outbox_id": str(row.pk),
    }
    payload.update(extra)
    return payload


def variant_id(row):
    """The id of the subject variant ``row`` was given, or None."""
    from django_order_mail.tracking.models import SubjectAssignment

    return SubjectAssignment.objects.filter(email_id=row.pk).values_list("variant_id", flat=True).first()


def bulk_sent(
    order,
    n: int,
    *,
    event: str = MailEvent.ORDER_CONFIRMATION,
    sent_at=None,
    prefix: str = "",
    subject_variant=None,
    **fields,
):
    """``n`` rows the ESP accepted, written directly (for statistics tests
    that need hundreds of rows); ``fields`` set delivery outcomes,
    ``subject_variant`` the A/B variant they were given."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    ct = ContentType.objects.get_for_model(order)
    sent_at = sent_at or timezone.now()
    start = OutboxEmail.objects.count()
    rows = [
        OutboxEmail(
            idempotency_key=f"bulk:{prefix}:{event}:{start + i}",
            event=event,
            status="sent",
            content_type=ct,
            object_id=str(order.pk),
            reference=order.number,
            recipient=f"bulk{start + i}@example.com",
            sent_at=sent_at,
            created_at=sent_at,
            esp_message_id=f"bulk-{prefix}-{start + i}",
            **fields,
        )
        for i in range(n)
    ]
    rows = OutboxEmail.objects.bulk_create(rows)
    if subject_variant is not None:
        from django_order_mail.tracking.models import SubjectAssignment

        SubjectAssignment.objects.bulk_create(
            SubjectAssignment(email=r, variant=subject_variant) for r in rows
        )
    return rows
