"""The periodic sweep: the database drives delivery, the broker only hurries it.

Runs every 30 s from Celery beat (``delivery.schedule.beat_schedule(every=)``)
or the ``order_mail_sweep --loop`` command and does three things:

1. scheduled rows whose ``send_after`` has come -> queued, published
   (long delays such as the feedback request live here, never as a Celery
   ETA, which Redis would redeliver after its visibility timeout);
2. queued rows the broker never delivered (published longer ago than
   ``REQUEUE_AFTER``: broker outage, crash between commit and publish, lost
   message) -> published again;
3. rows stuck in ``sending`` longer than ``SENDING_TIMEOUT`` (worker killed
   mid-send) -> released to queued and published.

Publishing a row twice is harmless: only one worker can claim it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..app_settings import app_settings
from ..outbox.enqueue import publish
from ..outbox.models import EmailLog, OutboxEmail, Status

logger = logging.getLogger("django_order_mail.delivery")


def _lock_batch(qs, order_by: str) -> list[int]:
    """Ids of up to one batch of rows, locked so concurrent sweeps split the
    work instead of doing it twice (SKIP LOCKED where the database has it)."""
    qs = qs.order_by(order_by)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs.values_list("pk", flat=True)[: app_settings.SWEEP_BATCH_SIZE])


def dispatch_due(now=None) -> list[int]:
    now = now or timezone.now()
    with transaction.atomic():
        ids = _lock_batch(
            OutboxEmail.objects.filter(status=Status.SCHEDULED, send_after__lte=now), "send_after"
        )
        if ids:
            OutboxEmail.objects.filter(pk__in=ids, status=Status.SCHEDULED).update(
                status=Status.QUEUED, enqueued_at=now, updated_at=now
            )
            EmailLog.objects.bulk_create(
                [EmailLog(email_id=pk, status=Status.QUEUED, message="scheduled time reached") for pk in ids]
            )
    return ids


def requeue_stale(now=None) -> list[int]:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=app_settings.REQUEUE_AFTER)
    with transaction.atomic():
        ids = _lock_batch(
            OutboxEmail.objects.filter(status=Status.QUEUED, enqueued_at__lt=cutoff).filter(
                Q(send_after__isnull=True) | Q(send_after__lt=cutoff)
            ),
            "enqueued_at",
        )
        if ids:
            OutboxEmail.objects.filter(pk__in=ids, status=Status.QUEUED).update(
                enqueued_at=now, updated_at=now
            )
    return ids


def release_stuck(now=None) -> list[int]:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=app_settings.SENDING_TIMEOUT)
    with transaction.atomic():
        ids = _lock_batch(
            OutboxEmail.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff), "claimed_at"
        )
        if ids:
            # The claim token stays: if the old worker is merely slow, its
            # "sent" still lands and no second copy goes out.
            OutboxEmail.objects.filter(pk__in=ids, status=Status.SENDING).update(
                status=Status.QUEUED,
                enqueued_at=now,
                send_after=None,
                updated_at=now,
                last_error="released after the worker stopped mid-send",
            )
            EmailLog.objects.bulk_create(
                [
                    EmailLog(
                        email_id=pk,
                        status=Status.QUEUED,
                        message="released: worker stopped while sending",
                    )
                    for pk in ids
                ]
            )
    return ids


def sweep(now=None) -> dict[str, int]:
    """One pass of all three; returns counts (also logged)."""
    counts = {}
    for name, step in (
        ("due", dispatch_due),
        ("requeued", requeue_stale),
        ("released", release_stuck),
    ):
        ids = step(now)
        counts[name] = len(ids)
        counts[f"{name}_published"] = publish(ids) if ids else 0
    if any(counts.values()):
        logger.info("order-mail sweep: %s", counts)
    return counts
