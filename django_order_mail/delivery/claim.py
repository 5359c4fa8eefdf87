"""Claim outbox rows for sending (a compare-and-set ``UPDATE ... WHERE
status = 'queued'``, so only one worker ever sends a row) and load what a
batch of them needs in a few queries."""

from __future__ import annotations

import uuid

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
    claimed = (
        OutboxEmail.objects.filter(pk__in=ids, status=Status.QUEUED)
        .filter(Q(send_after__isnull=True) | Q(send_after__lte=now))
        .update(
            status=Status.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return []
    return list(
        OutboxEmail.objects.select_related("shipment", "content_type")
        .filter(pk__in=ids, claim_token=token)
        .order_by("pk")
    )


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
