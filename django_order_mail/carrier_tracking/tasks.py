"""The carrier-tracking app's Celery task (found by ``app.autodiscover_tasks()``).

``django_order_mail.carrier_tracking_digest`` writes the day's staff digest
of parcels without a carrier scan (:mod:`.stale`); run it once a day with
the beat entry of :func:`.schedule.beat_schedule`. Running it more often is
harmless: one digest per day.
"""

from __future__ import annotations

from celery import shared_task

TASK = "django_order_mail.carrier_tracking_digest"


@shared_task(name=TASK, ignore_result=True)
def carrier_tracking_digest() -> int:
    """Write today's digest; the number of stale parcels it lists (0 if none
    or if today's digest was written before)."""
    from .stale import write_digest

    digest = write_digest()
    return len(digest.shipment_ids) if digest is not None else 0
