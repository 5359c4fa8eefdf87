"""Anymail tracking webhooks → the outbox row's timeline and the suppression list.

Anymail turns every ESP's webhook into an ``AnymailTrackingEvent`` and sends
the ``anymail.signals.tracking`` signal; :func:`on_tracking_event` handles it
for every ESP Anymail supports. Anymail answers the ESP with an error if a
receiver raises, and the ESP sends the webhook again later, so the receiver is

* **idempotent**: each event is stored once (``TrackingEvent``, unique per
  ESP and event id); a repeat is recognised and changes nothing;
* **transactional**: the event, the row's new status and the suppression
  entry commit together, so a failure half-way leaves nothing behind and the
  ESP's retry does the whole work again;
* **order-independent**: the delivery status only moves forward
  (:mod:`.status`), so "opened" before "delivered" or a late "deferred" after
  "delivered" never moves a row backwards;
* **fast**: one indexed lookup by ESP message id and a few small writes;
* **authenticated**: with ``DEBUG = False`` an event from a webhook without
  credentials is refused before anything is stored (:mod:`.webhooks`);
* **narrow**: a bounce, complaint, unsubscribe or resubscribe changes the
  suppression list only for the recipient of the email it matched, and only
  when the event names that same address.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timezone as dt_timezone

from anymail.signals import EventType, RejectReason, tracking
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone

from ..outbox.addresses import normalize_address
from ..outbox.delivery_status import DeliveryStatus, advances
from ..outbox.models import EmailLog, OutboxEmail
from ..signals import delivery_status_changed, send_robustly
from .models import Suppression, TrackingEvent
from .suppression import effective_scope, lift_unsubscribes, suppress
from .webhooks import refuse_unauthenticated

logger = logging.getLogger("django_order_mail.tracking")

Reason = Suppression.Reason

#: Anymail event type → delivery status (events not listed leave it alone).
STATUS_OF_EVENT = {
    EventType.QUEUED: DeliveryStatus.QUEUED,
    EventType.SENT: DeliveryStatus.SENT,
    EventType.DEFERRED: DeliveryStatus.DEFERRED,
    EventType.DELIVERED: DeliveryStatus.DELIVERED,
    EventType.BOUNCED: DeliveryStatus.BOUNCED,
    EventType.REJECTED: DeliveryStatus.REJECTED,
    EventType.FAILED: DeliveryStatus.FAILED,
    EventType.COMPLAINED: DeliveryStatus.COMPLAINED,
}


@receiver(tracking, dispatch_uid="django_order_mail.tracking")
def on_tracking_event(sender, event, esp_name, **kwargs):
    refuse_unauthenticated(sender, esp_name)
    record_event(event, esp_name)


def event_key(event) -> str:
    """The ESP's event id, or a hash of the whole event when it gives none.

    A resent webhook carries the same payload, so it gets the same key; two
    real opens differ at least in their time stamp.
    """
    if event.event_id:
        return str(event.event_id)[:255]
    try:
        raw = json.dumps(event.esp_event, sort_keys=True, default=str)
    except (TypeError, ValueError):
        raw = repr(event.esp_event)
    basis = "|".join(
        str(part or "")
        for part in (
            event.event_type,
            event.message_id,
            event.recipient,
            event.timestamp.isoformat() if event.timestamp else "",
            event.click_url,
            raw,
        )
    )
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def is_hard_bounce(event) -> bool:
    """Anymail reports soft and hard bounces alike for some ESPs; look at the
    ESP's own field where it has one. Only hard bounces suppress."""
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    if "RecordType" in raw:  # Postmark
        kind = raw.get("Type") or raw.get("SuppressionReason") or ""
        return kind in ("HardBounce", "BadEmailAddress")
    if raw.get("event") == "bounce":  # SendGrid: "blocked" is temporary
        return raw.get("type", "bounce") == "bounce"
    return event.reject_reason in (None, RejectReason.BOUNCED, RejectReason.INVALID)


def _find_email(event):
    """The row by ESP message id; else by the ``outbox_id`` metadata we send
    (the webhook may beat the worker recording the message id)."""
    qs = OutboxEmail.objects.select_for_update()
    if event.message_id:
        row = qs.filter(esp_message_id=str(event.message_id)[:255]).order_by("-pk").first()
        if row is not None:
            return row
    outbox_id = str((event.metadata or {}).get("outbox_id", ""))
    if outbox_id.isdigit():
        return qs.filter(pk=int(outbox_id)).first()
    return None


def _suppression_reason(event) -> str | None:
    kind = event.event_type
    if kind == EventType.BOUNCED:
        return Reason.HARD_BOUNCE if is_hard_bounce(event) else None
    if kind == EventType.COMPLAINED:
        return Reason.COMPLAINT
    if kind == EventType.UNSUBSCRIBED:
        return Reason.UNSUBSCRIBE
    if kind == EventType.REJECTED:
        # The ESP refused the send because of its own list: mirror it.
        return {
            RejectReason.BOUNCED: Reason.HARD_BOUNCE,
            RejectReason.INVALID: Reason.HARD_BOUNCE,
            RejectReason.SPAM: Reason.COMPLAINT,
            RejectReason.UNSUBSCRIBED: Reason.UNSUBSCRIBE,
        }.get(event.reject_reason)
    return None


def _describe(event, esp: str, soft: bool, when, now) -> str:
    parts = [f"{esp}: {event.event_type}"]
    if soft:
        parts.append("(soft bounce)")
    if event.reject_reason:
        parts.append(f"({event.reject_reason})")
    detail = event.mta_response or event.description or event.click_url or ""
    if detail:
        parts.append(f"— {detail}")
    if abs((now - when).total_seconds()) > 60:
        parts.append(f"(reported for {when:%Y-%m-%d %H:%M:%S %Z})")
    return " ".join(parts)[:2000]


def _apply_to_email(row: OutboxEmail, event, esp: str, when, now) -> None:
    kind = event.event_type
    soft = kind == EventType.BOUNCED and not is_hard_bounce(event)
    new_status = DeliveryStatus.DEFERRED if soft else STATUS_OF_EVENT.get(kind)
    fields: dict = {}
    note = ""
    if new_status:
        if advances(row.delivery_status, new_status):
            fields.update(delivery_status=new_status, delivery_status_at=when)
        elif row.delivery_status and row.delivery_status != new_status:
            note = f" (status stays {row.delivery_status})"
    if kind == EventType.DELIVERED and (row.delivered_at is None or when < row.delivered_at):
        fields["delivered_at"] = when
    if kind in (EventType.OPENED, EventType.CLICKED):
        # A click implies an open, even when the tracking pixel was blocked.
        if row.opened_at is None or when < row.opened_at:
            fields["opened_at"] = when
        if kind == EventType.OPENED:
            fields["open_count"] = F("open_count") + 1
    if kind == EventType.CLICKED:
        if row.clicked_at is None or when < row.clicked_at:
            fields["clicked_at"] = when
        fields["click_count"] = F("click_count") + 1
    if fields:
        OutboxEmail.objects.filter(pk=row.pk).update(**fields)
    if "delivery_status" in fields:
        send_robustly(
            delivery_status_changed,
            OutboxEmail,
            email=row,
            status=new_status,
            previous=row.delivery_status,
            event=event,
        )
    # The timeline is in order of arrival; the ESP's own time is in the text.
    message = _describe(event, esp, soft, when, now) + note
    EmailLog.objects.create(email=row, created_at=now, status=str(kind)[:20], message=message)


def record_event(event, esp_name: str, *, now=None) -> TrackingEvent | None:
    """Record one tracking event; None if it was a repeat."""
    now = now or timezone.now()
    esp = (esp_name or "unknown")[:40]
    occurred = event.timestamp
    if occurred is not None and timezone.is_naive(occurred):
        occurred = timezone.make_aware(occurred, dt_timezone.utc)
    when = occurred or now
    key = event_key(event)
    with transaction.atomic():
        # Locking the row first serialises concurrent webhooks for one email.
        row = _find_email(event)
        tracked, created = TrackingEvent.objects.get_or_create(
            esp=esp,
            event_id=key,
            defaults={
                "event_type": str(event.event_type or "unknown")[:20],
                "email": row,
                "message_id": str(event.message_id or "")[:255],
                "recipient": str(event.recipient or "")[:254],
                "occurred_at": occurred,
                "received_at": now,
                "reject_reason": str(event.reject_reason or "")[:20],
                "description": str(event.mta_response or event.description or "")[:2000],
                "click_url": str(event.click_url or "")[:2000],
            },
        )
        if not created:
            logger.info("Repeated %s event %s ignored", esp, key)
            return None
        if row is not None:
            _apply_to_email(row, event, esp, when, now)
        else:
            logger.info("%s %s event for unknown message %s", esp, event.event_type, event.message_id)
        reason = _suppression_reason(event)
        if reason or event.event_type == EventType.SUBSCRIBED:
            _change_list(row, event, reason, esp, now)
    return tracked


def _change_list(row, event, reason: str | None, esp: str, now) -> None:
    """Suppress (or, for a resubscribe, lift the unsubscribes of) the
    recipient of the matched email, if the event names that address."""
    if row is None:
        logger.info("%s %s event for no email of ours: suppression list unchanged", esp, event.event_type)
        return
    address = normalize_address(row.recipient)
    if not address or normalize_address(event.recipient) != address:
        EmailLog.objects.create(
            email=row,
            created_at=now,
            status="ignored",
            message=f"{esp}: the {event.event_type} event names another recipient than this email's; "
            "the suppression list is unchanged",
        )
        return
    if reason is None:
        lift_unsubscribes(address)
        return
    entry, new = suppress(address, reason, source=f"{esp} webhook", email=row)
    if new and entry is not None:  # new implies an entry
        EmailLog.objects.create(
            email=row,
            created_at=now,
            status="suppressed",
            message=f"address added to the suppression list ({entry.reason}, {effective_scope(entry)})",
        )
