"""Write outbox rows in the caller's transaction; tell Celery after commit.

This is the only module that creates :class:`OutboxEmail` rows for order
events. The guarantees it gives:

* the rows commit or roll back with the order change that caused them (they
  are written inside the same ``transaction.atomic`` block);
* an idempotency key per (order, event, shipment[, discriminator]) and a
  unique constraint on it: the same email is never written twice, even when
  two processes move the same order at once (the second insert waits for the
  first transaction and then does nothing);
* the broker is told only after commit, and a failed publish is harmless: the
  periodic sweep re-publishes any queued row the broker never delivered.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import router, transaction
from django.utils import timezone

from ..app_settings import app_settings
from ..events import INTERNAL_EVENTS, skip_reason
from ..signals import email_queued
from .insert import insert_returning, supports_returning
from .models import EmailLog, OutboxEmail, Status

logger = logging.getLogger("django_order_mail.outbox")


@dataclass
class PendingMail:
    """An email a transition decided to send, waiting for the order's save."""

    event: str
    shipment: Any = None
    send_after: datetime | None = None
    extra: dict = field(default_factory=dict)
    #: Distinguishes legitimate repeats of one event (a second payment
    #: failure, a new tracking number). Empty for once-per-order events.
    discriminator: str = ""
    notify: bool = True
    skip_reason: str = ""


def order_label(order) -> str:
    ct = ContentType.objects.get_for_model(order)
    return f"{ct.app_label}.{ct.model}:{order.pk}"


def idempotency_key(order, event: str, shipment=None, discriminator: str = "") -> str:
    """``app.model:pk:event:shipment[:discriminator]``, at most 255 characters."""
    key = f"{order_label(order)}:{event}:{shipment.pk if shipment is not None else '-'}"
    if discriminator:
        if len(discriminator) > 40:
            discriminator = hashlib.sha256(discriminator.encode()).hexdigest()[:40]
        key = f"{key}:{discriminator}"
    if len(key) > 255:  # absurdly long primary keys: keep the key unique but short
        key = key[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def _order_attr(order, method: str, default=""):
    getter = getattr(order, method, None)
    if getter is None:
        return default
    try:
        return getter() or default
    except Exception:
        logger.exception("%s() failed on %r", method, order)
        return default


def enqueue(order, pending: list[PendingMail]) -> list[OutboxEmail]:
    """Write one outbox row per pending email; return the rows created now.

    Rows that already exist (same idempotency key) are left alone and not
    returned. Call inside the transaction that changes the order.
    """
    if not pending or not app_settings.ENABLED:
        return []
    rows: list[OutboxEmail] = []
    now = timezone.now()
    batch = uuid.uuid4()
    ct = ContentType.objects.get_for_model(order)
    # Cut to the columns' lengths: a hook that returns more must not make the
    # INSERT, and with it the order's own transition, fail. (An address cut
    # short is no valid address: the sender fails that email with the reason.)
    channel = str(_order_attr(order, "get_mail_channel", app_settings.DEFAULT_CHANNEL))[:40]
    recipient = str(_order_attr(order, "get_mail_recipient"))[:254]
    language = str(_order_attr(order, "get_mail_language"))[:15]
    reference = str(_order_attr(order, "get_mail_order_number", order.pk))[:64]
    customer_name = str(_order_attr(order, "get_mail_customer_name"))[:200]

    for mail in pending:
        if mail.event in INTERNAL_EVENTS:
            continue
        reason = mail.skip_reason or skip_reason(mail.event, channel)
        if not reason and not mail.notify:
            reason = "staff chose not to notify the customer"
        if not reason and not recipient:
            reason = "the order has no email address"
        if reason:
            status = Status.SKIPPED
        elif mail.send_after and mail.send_after > now:
            status = Status.SCHEDULED
        else:
            status = Status.QUEUED
        rows.append(
            OutboxEmail(
                idempotency_key=idempotency_key(order, mail.event, mail.shipment, mail.discriminator),
                event=mail.event,
                status=status,
                content_type=ct,
                object_id=str(order.pk),
                reference=reference,
                shipment=mail.shipment,
                channel=channel,
                language=language,
                recipient=recipient,
                customer_name=customer_name,
                extra=mail.extra,
                send_after=mail.send_after,
                enqueued_at=now if status == Status.QUEUED else None,
                created_at=now,
                last_error=reason or "",
                claim_token=batch,
            )
        )
    staff = [mail for mail in pending if mail.event in INTERNAL_EVENTS]
    if staff:
        # Staff mail: to the staff recipients of the admin or the settings,
        # never to the order's address (notifications.rows); after the
        # customer's rows, which go first.
        from ..notifications.rows import staff_rows

        common = {"content_type": ct, "object_id": str(order.pk), "reference": reference}
        rows += staff_rows(
            order,
            staff,
            fields={**common, "channel": channel, "created_at": now, "claim_token": batch},
            now=now,
        )
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        created = _insert_new(rows, batch)
        if len(created) < len(rows):
            _check_conflicts_only(rows, created)
        publish_on_commit([r.pk for r in created if r.status == Status.QUEUED])
        if email_queued.has_listeners(type(order)):
            for row in created:
                email_queued.send(sender=type(order), email=row, order=order)
    for row in created:
        if row.status == Status.SKIPPED:
            logger.info("Skipped %s for %s: %s", row.event, row.reference, row.last_error)
    return created


def _insert_new(rows: list[OutboxEmail], batch: uuid.UUID) -> list[OutboxEmail]:
    """Insert ``rows``, skipping idempotency keys that exist; return the
    rows inserted now, with their primary keys.

    PostgreSQL and SQLite do it in one statement (``INSERT ... ON CONFLICT
    DO NOTHING RETURNING``, :mod:`.insert`): the returned keys say which
    rows are new. Other databases insert with
    ``bulk_create(ignore_conflicts=True)`` and read the new rows back by the
    batch token (rows of another transaction are not visible or carry that
    transaction's token).
    """
    using = router.db_for_write(OutboxEmail)
    if supports_returning(using):
        return insert_returning(rows, using)
    OutboxEmail.objects.using(using).bulk_create(rows, ignore_conflicts=True)
    return list(
        OutboxEmail.objects.using(using).filter(
            idempotency_key__in=[r.idempotency_key for r in rows], claim_token=batch
        )
    )


def _check_conflicts_only(rows: list[OutboxEmail], created: list[OutboxEmail]) -> None:
    """Rows not inserted must be duplicates of existing keys.

    SQLite's ``INSERT OR IGNORE`` also swallows NOT NULL and CHECK failures;
    an email must never vanish that way.
    """
    missing = {r.idempotency_key for r in rows} - {r.idempotency_key for r in created}
    found = OutboxEmail.objects.filter(idempotency_key__in=missing).count()
    if found != len(missing):
        raise RuntimeError(f"outbox rows could not be written: {sorted(missing)}")


def publish_on_commit(ids: list[int], countdown: float | None = None) -> None:
    """Tell Celery about ``ids`` once the current transaction commits."""
    if ids:
        transaction.on_commit(partial(hand_off, ids, countdown))


def hand_off(ids: list[int], countdown: float | None = None) -> None:
    """Publish ``ids`` now, or through the process's background publisher
    (``PUBLISH_IN_BACKGROUND``, :mod:`django_order_mail.outbox.publisher`).

    Eager Celery (``task_always_eager``) runs the task in the publishing
    thread, so it is always published here, in the caller's thread.
    """
    if app_settings.PUBLISH_IN_BACKGROUND and not _celery_is_eager():
        from .publisher import publisher

        publisher.submit(ids, countdown)
    else:
        publish(ids, countdown=countdown)


def _celery_is_eager() -> bool:
    from ..delivery.tasks import send_emails

    return bool(send_emails.app.conf.task_always_eager)


def publish(ids: list[int], countdown: float | None = None) -> int:
    """Hand ``ids`` to the broker now; return how many were accepted.

    The ids travel in ``send_emails`` messages of up to
    ``DELIVERY_BATCH_SIZE`` ids each, so the worker that takes a message
    claims and sends them as one batch.

    A broker that is down costs at most the short ``PUBLISH_RETRY_POLICY``;
    the rows stay queued and the sweep publishes them again later.
    """
    from ..delivery.tasks import send_emails

    options: dict[str, Any] = {
        "retry": True,
        "retry_policy": app_settings.PUBLISH_RETRY_POLICY,
    }
    if app_settings.CELERY_QUEUE:
        options["queue"] = app_settings.CELERY_QUEUE
    if countdown:
        options["countdown"] = countdown
    size = app_settings.DELIVERY_BATCH_SIZE
    accepted = 0
    try:
        # One producer (and broker connection) for the whole list.
        with send_emails.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), size):
                chunk = list(ids[start : start + size])
                # Celery takes a list or a tuple; celery-types allows only a tuple.
                send_emails.apply_async(args=[chunk], producer=producer, **options)  # type: ignore[arg-type]
                accepted += len(chunk)
    except Exception as exc:  # noqa: BLE001 - any broker error: the sweep retries
        logger.warning(
            "Could not hand %d email(s) to the broker (%s); the sweep will retry.", len(ids) - accepted, exc
        )
        # the broker is down: do not wait out the retry policy for every chunk
    return accepted


def cancel_scheduled(order, reason: str, events: list[str] | None = None) -> int:
    """Cancel scheduled (not yet due) emails of ``order`` that no longer apply."""
    ct = ContentType.objects.get_for_model(order)
    qs = OutboxEmail.objects.filter(content_type=ct, object_id=str(order.pk), status=Status.SCHEDULED)
    if events is not None:
        qs = qs.filter(event__in=events)
    ids = list(qs.values_list("pk", flat=True))
    if not ids:
        return 0
    updated = OutboxEmail.objects.filter(pk__in=ids, status=Status.SCHEDULED).update(
        status=Status.CANCELLED, last_error=reason, updated_at=timezone.now()
    )
    EmailLog.objects.bulk_create(
        [EmailLog(email_id=pk, status=Status.CANCELLED, message=reason) for pk in ids]
    )
    return updated
