"""Claim outbox rows for sending (a compare-and-set ``UPDATE ... WHERE
status = 'queued'``, so only one worker ever sends a row) and load what a
batch of them needs in a few queries."""

from __future__ import annotations

import uuid

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..lifecycle.shipments import Shipment
from ..outbox.models import OutboxEmail, Status
from ..signals import emails_claimed


def claim(email_id: int) -> OutboxEmail | None:
    """Move a due queued row to ``sending``; None if another worker has it,
    it is not due yet, or it is already final."""
    rows = claim_many([email_id])
    return rows[0] if rows else None


def claim_many(ids: list[int]) -> list[OutboxEmail]:
    """Move the due queued rows among ``ids`` to ``sending`` in one
    statement and return them (in id order); rows another worker holds, rows
    not due yet and final rows are left out."""
    if not ids:
        return []
    now = timezone.now()
    token = uuid.uuid4()
    claimed = due_emails(now).filter(pk__in=ids).update(**_claim_values(now, token))
    return _claimed_rows(token, pk__in=ids) if claimed else []


def claim_due(limit: int) -> list[OutboxEmail]:
    """Claim up to ``limit`` due queued rows, whichever they are, oldest
    first (the order they were queued in); what a sending worker with room
    for more calls takes without waiting for their broker messages.

    Where the database has it (PostgreSQL), the ids are read ``FOR UPDATE
    SKIP LOCKED`` in the claiming transaction: workers looking at the same
    time take different rows instead of queueing behind each other's locks.
    (Not one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP
    LOCKED)``: PostgreSQL may run such a subquery again for each row it
    updates, and claim far more than ``limit``.) Either way the rows are
    claimed with :func:`claim_many`'s compare-and-set, so a row another
    worker took meanwhile is simply not claimed; their broker messages find
    them ``sending`` and claim nothing.
    """
    if limit < 1:
        return []
    using = router.db_for_write(OutboxEmail)
    due = due_emails(timezone.now()).using(using).order_by("enqueued_at", "pk")
    if not due.exists():  # the usual answer of a look: one cheap read, no transaction
        return []
    if not connections[using].features.has_select_for_update_skip_locked:
        return claim_many(list(due.values_list("pk", flat=True)[:limit]))
    with transaction.atomic(using=using):
        # The partial index on queued rows' enqueued_at serves this.
        ids = list(due.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        return claim_many(ids)


def due_emails(now):
    """Queued rows whose time has come (a retry's backoff has passed)."""
    return OutboxEmail.objects.filter(status=Status.QUEUED).filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now)
    )


def _claim_values(now, token) -> dict:
    return {
        "status": Status.SENDING,
        "claimed_at": now,
        "claim_token": token,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }


def _claimed_rows(token, **narrow) -> list[OutboxEmail]:
    """The rows this claim (``token``) took, in id order, with what every
    email reads; ``narrow`` lets the query use an index (the token has none)."""
    rows = OutboxEmail.objects.select_related("shipment", "content_type").filter(claim_token=token, **narrow)
    return list(rows.order_by("pk"))


def _prefetch(rows: list[OutboxEmail]) -> None:
    """Load the orders of ``rows`` per model in one query each (plus the
    model's ``mail_prefetch_related``), their shipments and the recipients'
    suppression entries, for the current batch."""
    by_type: dict[int, list[OutboxEmail]] = {}
    for row in rows:
        by_type.setdefault(row.content_type_id, []).append(row)
    for group in by_type.values():
        content_type = group[0].content_type
        model = content_type.model_class()
        if model is None:
            continue
        qs = model._default_manager.filter(pk__in={row.object_id for row in group})
        related = getattr(model, "mail_prefetch_related", ())
        if related:
            qs = qs.prefetch_related(*related)
        found = {str(obj.pk): obj for obj in qs}
        for row in group:
            obj = found.get(row.object_id)
            if obj is not None:
                row.order = obj
        Shipment.prime_for_orders(content_type, found)
    # Features fetch what every email of the batch needs (say, the
    # recipients' suppression entries) in one query.
    emails_claimed.send(sender=OutboxEmail, emails=rows)
