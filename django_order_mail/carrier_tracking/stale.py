"""Parcels the carrier has not scanned for days, and the staff digest of them.

A parcel is *stale* when it is not delivered or returned, has a tracking
number, was shipped within ``CARRIER_TRACKING_STALE_LOOKBACK_DAYS`` and its
newest carrier scan (its ship time if there is none) is more than
``CARRIER_TRACKING_STALE_DAYS`` old: a label that was never handed over, or
a parcel lost between two scans. Staff see them with the admin's filter
(:mod:`.admin`) and in a daily email, ``stale_shipments_digest``, written by
the Celery task of :mod:`.tasks` at most once a day (one
:class:`~.models.StaleShipmentDigest` per day).

Who gets the digest is the core's staff notifications' business
(:mod:`django_order_mail.notifications.recipients`): the recipients set in
the admin for "Shipments without carrier scans (staff)" win; without them,
``CARRIER_TRACKING_DIGEST_EMAIL`` or the support address, as before. The
core's ``enqueue`` writes one outbox row per recipient (the digest's key
plus ``:to-<hash>``; the settings' single address keeps the digest's key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import DateTimeField, QuerySet
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from ..lifecycle.shipments import Shipment
from ..notifications.recipients import register_staff_default, staff_recipients
from ..outbox.enqueue import PendingMail, enqueue
from ..rendering.branding import get_branding
from ..rendering.links import absolute
from ..rendering.sample import sample_shipment
from .app_settings import app_settings
from .events import STALE_SHIPMENTS_DIGEST
from .models import CarrierShipment, StaleShipmentDigest
from .status import FINAL, TrackingStatus

logger = logging.getLogger("django_order_mail.carrier_tracking")

#: The digest lists at most this many parcels; the admin's filter has them all.
DIGEST_LIMIT = 100


def with_last_seen(qs: QuerySet) -> QuerySet:
    """``last_seen``: the newest carrier scan, else the ship time."""
    return qs.annotate(
        last_seen=Coalesce("carrier_tracking__last_scan_at", "shipped_at", output_field=DateTimeField())
    )


def stale_shipments(now: datetime | None = None, *, model: type[Shipment] = Shipment) -> QuerySet:
    """The stale parcels at ``now``, longest silent first."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=app_settings.CARRIER_TRACKING_STALE_DAYS)
    oldest = now - timedelta(days=app_settings.CARRIER_TRACKING_STALE_LOOKBACK_DAYS)
    qs = model.objects.filter(delivered_at__isnull=True, shipped_at__gte=oldest).exclude(tracking_number="")
    qs = qs.exclude(carrier_tracking__status__in=list(FINAL))
    return with_last_seen(qs).filter(last_seen__lt=cutoff).order_by("last_seen", "pk")


def digest_recipient() -> str:
    """The settings' default recipient (the admin's staff notifications win)."""
    return app_settings.CARRIER_TRACKING_DIGEST_EMAIL or get_branding().get("support_email") or ""


def register_digest_recipients() -> None:
    """Make the settings the digest's default in the staff notifications
    (called by the app config)."""
    register_staff_default(
        STALE_SHIPMENTS_DIGEST,
        digest_recipient,
        source="ORDER_MAIL['CARRIER_TRACKING_DIGEST_EMAIL'] or BRANDING['support_email']",
    )


def write_digest(now: datetime | None = None) -> StaleShipmentDigest | None:
    """Today's digest (and its email, if any parcel is stale); None if today's
    was written before. Safe to run any number of times a day."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    with transaction.atomic():
        if StaleShipmentDigest.objects.filter(day=day).exists():
            return None
        stale = stale_shipments(now)
        ids = list(stale.values_list("pk", flat=True)[:DIGEST_LIMIT])
        count = stale.count() if len(ids) >= DIGEST_LIMIT else len(ids)
        # Whom it reaches today (the outbox rows have each address).
        target = staff_recipients(STALE_SHIPMENTS_DIGEST)
        recipient = ", ".join(target.addresses)[:254] if target.active else ""
        digest, created = StaleShipmentDigest.objects.get_or_create(
            day=day, defaults={"created_at": now, "recipient": recipient, "shipment_ids": ids}
        )
        if not created:  # another run was first
            return None
        if ids:
            # One row per recipient, or a skipped row with the reason
            # (the core's staff rows: nobody left to tell, switched off).
            enqueue(digest, [PendingMail(STALE_SHIPMENTS_DIGEST, extra={"count": count})])
    logger.info("Stale-shipment digest of %s: %d parcel(s)", day, count)
    return digest


def admin_url(name: str, *args, query: str = "") -> str:
    try:
        path = reverse(f"admin:order_mail_carrier_tracking_carriershipment_{name}", args=args)
    except NoReverseMatch:
        return ""
    return absolute(path + (f"?{query}" if query else ""))


def shipment_row(shipment: Shipment, now: datetime) -> dict:
    tracking = getattr(shipment, "carrier_tracking", None)
    last_seen = getattr(shipment, "last_seen", None) or shipment.shipped_at
    order = shipment.order
    try:
        reference = order.get_mail_order_number() if order is not None else shipment.object_id
    except Exception:  # a broken hook costs this line its order number, not the digest
        logger.exception("get_mail_order_number() failed for shipment %s", shipment.pk)
        reference = shipment.object_id
    return {
        "order_number": str(reference or shipment.object_id),
        "carrier_name": shipment.carrier_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.get_tracking_url(),
        "shipped_at": shipment.shipped_at,
        "last_seen": last_seen,
        "days": max((now - last_seen).days, 0),
        "status": tracking.get_status_display() if tracking is not None and tracking.status else "",
        "checkpoint": tracking.last_checkpoint if tracking is not None else "",
        "admin_url": admin_url("change", shipment.pk),
    }


def build_digest_context(digest, *, extra=None, email_id=None) -> dict:
    """The context of ``stale_shipments_digest``: the digest's parcels as they
    are now (rendered when sent), oldest silence first."""
    now = timezone.now()
    rows = digest.rows(now) if isinstance(digest, SampleDigest) else digest_rows(digest, now)
    count = int((extra or {}).get("count") or len(rows))
    return {
        "event": STALE_SHIPMENTS_DIGEST,
        "digest": digest,
        "order_number": "",
        "customer_name": "",
        "recipient": digest.get_mail_recipient(),
        "channel": "",
        "shipments": rows,
        "count": count,
        "more": max(count - len(rows), 0),
        "stale_days": app_settings.CARRIER_TRACKING_STALE_DAYS,
        "filter_url": admin_url("changelist", query="no_scan=stale"),
        "shop": get_branding(),
        "extra": dict(extra or {}),
    }


def digest_rows(digest: StaleShipmentDigest, now: datetime) -> list[dict]:
    ids = list(digest.shipment_ids or [])[:DIGEST_LIMIT]
    qs = with_last_seen(CarrierShipment.objects.filter(pk__in=ids)).select_related("carrier_tracking")
    return [shipment_row(s, now) for s in qs.order_by("last_seen", "pk")]


class SampleDigest:
    """An unsaved digest with two parcels: what staff previews render."""

    pk = None

    def __init__(self, *, channel: str = ""):
        self.day = timezone.localdate()

    def __str__(self):
        return gettext("Sample stale-shipment digest")

    def get_mail_recipient(self):
        return digest_recipient() or "help@shop.example"

    def get_mail_language(self):
        return ""

    def get_mail_channel(self):
        return ""

    def get_mail_order_number(self):
        return str(self.day)

    def rows(self, now: datetime) -> list[dict]:
        parcel = sample_shipment()
        rows = []
        for days, number, status in ((9, "1001", ""), (6, "1002", TrackingStatus.IN_TRANSIT.label)):
            seen = now - timedelta(days=days)
            rows.append(
                {
                    "order_number": number,
                    "carrier_name": parcel.carrier_name,
                    "tracking_number": parcel.tracking_number,
                    "tracking_url": parcel.get_tracking_url(),
                    "shipped_at": seen,
                    "last_seen": seen,
                    "days": days,
                    "status": str(status),
                    "checkpoint": "",
                    "admin_url": "",
                }
            )
        return rows
