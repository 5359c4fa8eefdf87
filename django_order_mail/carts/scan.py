"""The periodic scan that writes abandoned-cart reminders into the outbox.

Celery beat runs the task ``django_order_mail.abandoned_cart_scan``
(``delivery.schedule.beat_schedule()``, every 5 minutes by default). For
each cart model and each step of the sequence it reads, through the
mixin's partial index, the open carts due for that step, in batches of
``ABANDONED_CART_BATCH_SIZE``; each batch is one transaction that

* locks its carts with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL),
  so two scans running at once split the carts instead of both taking them;
* writes one outbox row per cart with the idempotency key
  ``<app>.<model>:<pk>:abandoned_cart:-:step-<n>`` — a reminder is never
  written twice for the same cart and step, whatever runs twice;
* moves the carts' ``reminder_step`` on, which takes them out of the query
  (no OFFSET paging: every batch starts from the index again).

The sequence is read once per run (:func:`.sequence.configured_steps`:
staff's steps from the admin if saved, else ``ABANDONED_CART_STEPS``), so a
change applies from the next run on; each row keeps what its step said
when it was written (:func:`.sequence.step_extra`).

Nothing here decides whether the reminder is still wanted when it goes
out: the sender asks :mod:`.relevance` right before sending.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from celery import shared_task
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..events import skip_reason
from ..outbox.enqueue import idempotency_key, publish_on_commit
from ..outbox.models import OutboxEmail, Status
from .app_settings import app_settings
from .events import ABANDONED_CART
from .mixins import OPEN_CART, AbandonedCartMixin, cart_models
from .sequence import Step, configured_steps, last_step_number, step_extra

logger = logging.getLogger("django_order_mail.carts")

EVENT = ABANDONED_CART


def due_carts(model: type[AbandonedCartMixin], step: Step, now: datetime) -> QuerySet:
    """Open carts of ``model`` due for ``step`` at ``now`` (indexed query).

    Due: idle for the step's time, done with the step before it that is on
    (``step.follows``; a step switched off in between is passed over) and,
    after an earlier reminder, at least the step's gap since that reminder.
    """
    qs = model._default_manager.filter(OPEN_CART, last_activity_at__lte=now - step.after)
    if step.follows == step.number - 1:
        qs = qs.filter(reminder_step=step.follows)
    else:
        qs = qs.filter(reminder_step__gte=step.follows, reminder_step__lt=step.number)
    if step.follows == 0:
        max_idle = Q(last_activity_at__gt=now - timedelta(hours=app_settings.ABANDONED_CART_MAX_IDLE_HOURS))
        if step.number == 1:
            return qs.filter(max_idle)
        # The first step that is on: carts never reminded are "first found";
        # carts an earlier step (now off) reminded wait for the gap.
        return qs.filter(
            (Q(reminder_step=0) & max_idle) | Q(reminder_step__gt=0, last_reminded_at__lte=now - step.gap)
        )
    return qs.filter(last_reminded_at__lte=now - step.gap)


def scan(now: datetime | None = None, *, batch_size: int | None = None) -> dict[int, int]:
    """Write every due reminder; returns ``{step number: carts handled}``."""
    if not app_settings.ENABLED or EVENT in app_settings.DISABLED_EVENTS:
        return {}
    now = now or timezone.now()
    size = max(1, batch_size or app_settings.ABANDONED_CART_BATCH_SIZE)
    steps = configured_steps()
    last = last_step_number(steps)
    handled: dict[int, int] = {}
    for model in cart_models():
        # Later steps first: a cart moved on by this run is never due again
        # in the same run anyway (its next step waits for the gap).
        for step in reversed(steps):
            while True:
                count = scan_batch(model, step, last, now, size)
                handled[step.number] = handled.get(step.number, 0) + count
                if count < size:
                    break
    if any(handled.values()):
        logger.info("Abandoned-cart scan: %s", handled)
    return handled


def scan_batch(model: type[AbandonedCartMixin], step: Step, steps: int, now: datetime, size: int) -> int:
    """One transaction: lock up to ``size`` due carts, write their reminder
    rows, advance their step. Returns how many carts it took. ``steps`` is
    the number of the sequence's last step that is on."""
    # One transaction for the carts and their outbox rows: like orders, carts
    # must live in the database of the outbox.
    alias = router.db_for_write(model)
    with transaction.atomic(using=alias):
        qs = due_carts(model, step, now).using(alias).order_by("last_activity_at", "pk")
        if connections[alias].features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        carts = list(qs[:size])
        if not carts:
            return 0
        write_reminders(carts, step, steps, now)
        model._default_manager.using(alias).filter(
            pk__in=[cart.pk for cart in carts], reminder_step__gte=step.follows, reminder_step__lt=step.number
        ).update(reminder_step=step.number, last_reminded_at=now)
    return len(carts)


def _attr(cart, method: str, default=""):
    """A hook's answer; a failing hook costs this cart its details, not the batch."""
    try:
        return getattr(cart, method)() or default
    except Exception:
        logger.exception("%s() failed on %r", method, cart)
        return default


def write_reminders(
    carts: list[AbandonedCartMixin], step: Step, steps: int, now: datetime
) -> list[OutboxEmail]:
    """One outbox row per cart for ``step`` (``bulk_create``, conflicts
    ignored against the unique idempotency key); returns the rows written now.

    The same decisions as :func:`outbox.enqueue.enqueue`, for a whole batch
    in two statements instead of two per cart.
    """
    batch = uuid.uuid4()
    ct = ContentType.objects.get_for_model(type(carts[0]))
    rows = []
    for cart in carts:
        channel = _attr(cart, "get_mail_channel", app_settings.DEFAULT_CHANNEL)
        recipient = _attr(cart, "get_mail_recipient")
        reason = skip_reason(EVENT, channel) or ("" if recipient else "the cart has no email address")
        rows.append(
            OutboxEmail(
                idempotency_key=idempotency_key(cart, EVENT, None, f"step-{step.number}"),
                event=EVENT,
                status=Status.SKIPPED if reason else Status.QUEUED,
                content_type=ct,
                object_id=str(cart.pk),
                reference=str(_attr(cart, "get_mail_order_number", cart.pk))[:64],
                channel=channel,
                language=_attr(cart, "get_mail_language"),
                recipient=recipient[:254],
                # The send log's search finds the reminder by name too.
                customer_name=str(_attr(cart, "get_mail_customer_name"))[:200],
                extra=step_extra(step, steps),
                enqueued_at=None if reason else now,
                created_at=now,
                last_error=reason,
                claim_token=batch,
            )
        )
    keys = [row.idempotency_key for row in rows]
    OutboxEmail.objects.bulk_create(rows, ignore_conflicts=True)
    created = list(
        OutboxEmail.objects.filter(idempotency_key__in=keys, claim_token=batch).only(
            "pk", "idempotency_key", "status", "reference", "last_error"
        )
    )
    if len(created) < len(rows):
        # Rows not inserted must be reminders written before (the unique
        # key); SQLite's INSERT OR IGNORE would also swallow other failures.
        missing = set(keys) - {row.idempotency_key for row in created}
        if OutboxEmail.objects.filter(idempotency_key__in=missing).count() != len(missing):
            raise RuntimeError(f"reminder rows could not be written: {sorted(missing)}")
    publish_on_commit([row.pk for row in created if row.status == Status.QUEUED])
    for row in created:
        if row.status == Status.SKIPPED:
            logger.info(
                "Skipped abandoned_cart step %s for %s: %s", step.number, row.reference, row.last_error
            )
    return created


@shared_task(name="django_order_mail.abandoned_cart_scan", ignore_result=True)
def abandoned_cart_scan() -> dict:
    """Celery beat entry: write the reminders that are due now."""
    return {str(number): count for number, count in scan().items()}
