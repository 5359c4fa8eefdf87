"""A carrier update moves its parcel, and through the parcel its order.

:func:`record_update` handles one :class:`~.providers.base.CarrierUpdate`:

* **finds the parcel** by its tracking number, whatever the carrier: this
  app's own index (:class:`~.models.ShipmentTracking`) first, the core's
  shipments for a parcel's first event. Carriers recycle numbers: of several
  parcels with the number, the newest one not yet delivered is taken. An
  unknown number is logged and ignored;
* **one transaction, the order locked first** (``select_for_update``), so
  two webhooks about one order (two parcels delivered at once, or the same
  event delivered twice at once) run one after the other;
* **idempotent**: the event is stored once (:class:`~.models.CarrierEvent`,
  unique per provider and event id); a repeat changes nothing;
* **never backwards** (:func:`~.status.moves_forward`): a late "in transit"
  after "delivered" is recorded and changes nothing;
* out for delivery → the order's ``mark_out_for_delivery(shipment)`` when its
  state machine allows it; delivered → the parcel's ``delivered_at`` and,
  once every parcel of the order is delivered, ``mark_delivered()``;
* a failed attempt, a customs hold, a return or a parcel waiting at a pickup
  point → the ``delivery_exception`` email through the outbox, in the same
  transaction, with the kind as discriminator: once per parcel and kind.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime

from django.db import router, transaction
from django.utils import timezone
from django_fsm import can_proceed

from ..lifecycle.shipments import Shipment
from ..lifecycle.states import order_state
from ..outbox.enqueue import PendingMail, enqueue
from .events import DELIVERY_EXCEPTION
from .models import CarrierEvent, ShipmentTracking
from .providers.base import CarrierUpdate, normalize_number
from .status import EMAILED_EXCEPTIONS, TrackingStatus, moves_forward

logger = logging.getLogger("django_order_mail.carrier_tracking")


def find_shipment(number: str) -> Shipment | None:
    """The parcel with tracking number ``number`` (normalized), or None."""
    if not number:
        return None
    indexed = [
        shipment
        for shipment in Shipment.objects.filter(carrier_tracking__tracking_number=number)[:20]
        # A number changed on the parcel since (a shipping update) no longer counts.
        if normalize_number(shipment.tracking_number) == number
    ]
    candidates = indexed if any(s.delivered_at is None for s in indexed) else []
    if not candidates:
        candidates = indexed + list(Shipment.objects.filter(tracking_number__iexact=number)[:20])
    if not candidates:
        return None
    return max(candidates, key=lambda s: (s.delivered_at is None, s.shipped_at, s.pk))


def lock_order(shipment: Shipment):
    """The parcel's order re-read under a row lock, or None if it is gone."""
    model = shipment.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.select_for_update().filter(pk=shipment.object_id).first()


def record_update(update: CarrierUpdate, *, now: datetime | None = None) -> CarrierEvent | None:
    """Apply ``update``; the stored event, or None for an unknown parcel or a
    repeated event."""
    now = now or timezone.now()
    found = find_shipment(update.tracking_number)
    if found is None:
        logger.info(
            "%s %s event %s for unknown tracking number %s ignored",
            update.provider,
            update.status,
            update.event_id,
            update.tracking_number,
        )
        return None
    with transaction.atomic(using=router.db_for_write(Shipment)):
        # The order first, then everything else: concurrent webhooks about
        # this order queue here, and the second sees what the first did.
        order = lock_order(found)
        shipment = Shipment.objects.select_for_update().get(pk=found.pk)
        event, created = CarrierEvent.objects.get_or_create(
            provider=update.provider[:40],
            event_id=update.event_id[:255],
            defaults={
                "shipment": shipment,
                "tracking_number": update.tracking_number,
                "status": update.status,
                "raw_status": update.raw_status[:100],
                "occurred_at": update.occurred_at,
                "received_at": now,
            },
        )
        if not created:
            logger.info("Repeated %s event %s ignored", update.provider, update.event_id)
            return None
        event.outcome = "; ".join(apply(update, shipment, order, now))
        event.save(update_fields=["outcome"])
    logger.info("%s %s for %s: %s", update.provider, update.status, update.tracking_number, event.outcome)
    return event


def apply(update: CarrierUpdate, shipment: Shipment, order, now: datetime) -> list[str]:
    """What ``update`` changes; the lines of the event's outcome."""
    tracking, _new = ShipmentTracking.objects.get_or_create(
        shipment=shipment, defaults={"tracking_number": update.tracking_number}
    )
    tracking.tracking_number = update.tracking_number
    tracking.provider, tracking.carrier = update.provider[:40], update.carrier[:40]
    newer_scan = update.last_scan_at and (
        tracking.last_scan_at is None or update.last_scan_at > tracking.last_scan_at
    )
    if newer_scan:
        tracking.last_scan_at = update.last_scan_at
    if update.checkpoint and (newer_scan or not tracking.last_checkpoint):
        tracking.last_checkpoint = update.checkpoint
    forward, why = moves_forward(tracking.status, tracking.status_at, update.status, update.occurred_at)
    if not forward:
        tracking.save()
        return [f"status stays {tracking.status}: {why}"]
    previous = tracking.status
    tracking.status, tracking.status_at = update.status, update.occurred_at or now
    tracking.save()
    notes = [f"{previous or '-'} → {update.status}"]
    if update.status == TrackingStatus.OUT_FOR_DELIVERY:
        notes.append(out_for_delivery(order, shipment))
    elif update.status == TrackingStatus.DELIVERED:
        when = min(update.occurred_at or now, now)
        notes.append(delivered(order, shipment, when))
    if update.status in EMAILED_EXCEPTIONS:
        notes.append(email_exception(order, shipment, update.status))
    return notes


def _transition(order, name: str, **arguments) -> str:
    """Call transition ``name`` if the order's state machine allows it, then
    save; the transition writes its own emails (``docs/lifecycle.rst``)."""
    if order is None:
        return "the order no longer exists"
    method = getattr(order, name, None)
    if method is None:
        return f"the order has no {name}() transition"
    if not can_proceed(method):
        return f"order is {order_state(order)}: {name}() not allowed"
    accepted = inspect.signature(method).parameters
    method(**{key: value for key, value in arguments.items() if key in accepted})
    order.save()
    return f"order {name}() → {order_state(order)}"


def out_for_delivery(order, shipment: Shipment) -> str:
    return _transition(order, "mark_out_for_delivery", shipment=shipment)


def delivered(order, shipment: Shipment, when: datetime) -> str:
    note = ""
    if shipment.delivered_at is None:
        shipment.delivered_at = when
        shipment.save(update_fields=["delivered_at"])
        note = "parcel delivered; "
    if order is None:
        return note + "the order no longer exists"
    if Shipment.for_order(order).filter(delivered_at__isnull=True).exists():
        return note + "other parcels of the order are not delivered yet"
    return note + _transition(order, "mark_delivered")


def email_exception(order, shipment: Shipment, kind: str) -> str:
    """Write the ``delivery_exception`` email in this transaction; the kind
    is the discriminator, so a repeat of the same exception writes nothing."""
    if order is None:
        return "no order to email"
    state = order_state(order)
    closed = state in getattr(order, "mail_cancel_scheduled_states", ())
    mail = PendingMail(
        DELIVERY_EXCEPTION,
        shipment=shipment,
        discriminator=kind,
        extra={"exception": kind},
        skip_reason=f"the order is {state}" if closed else "",
    )
    written = enqueue(order, [mail])
    return (
        f"{DELIVERY_EXCEPTION} ({kind}) written"
        if written
        else f"{DELIVERY_EXCEPTION} ({kind}) already written"
    )
