"""Staff actions on send-log rows: resend, retry a failure, cancel.

Each writes its change in a transaction and tells Celery after commit, the
same path as an order transition, so an action taken during a broker outage
is delivered by the sweep later.

:func:`send_outlook` tells staff, before the worker gets to it, what will
stop a queued email: the checks the sender makes (one valid recipient, and
its ``pre_send`` receivers such as the suppression list, asked with
``dry_run``), so the admin never says "being sent again" about an email that
will be suppressed.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..exceptions import SendVetoed
from ..signals import SendDraft, pre_send
from .enqueue import publish_on_commit
from .models import EmailLog, OutboxEmail, Status


def resend(row: OutboxEmail, *, by: str = "") -> OutboxEmail:
    """Queue a fresh copy of ``row`` (a customer who "never got it", a fixed
    address). The copy links to the original and has its own key."""
    now = timezone.now()
    suffix = uuid.uuid4().hex[:12]
    key = f"{row.idempotency_key[:230]}:resend:{suffix}"
    with transaction.atomic():
        copy = OutboxEmail.objects.create(
            idempotency_key=key,
            event=row.event,
            status=Status.QUEUED,
            content_type_id=row.content_type_id,
            object_id=row.object_id,
            reference=row.reference,
            shipment_id=row.shipment_id,
            channel=row.channel,
            language=row.language,
            recipient=row.recipient,
            customer_name=row.customer_name,
            extra=row.extra,
            enqueued_at=now,
            resend_of=row,
            is_test=row.is_test,
        )
        EmailLog.objects.create(
            email=copy, status=Status.QUEUED, message=f"resend of #{row.pk}" + (f" by {by}" if by else "")
        )
        publish_on_commit([copy.pk])
    return copy


def retry(row: OutboxEmail, *, by: str = "") -> bool:
    """Give a failed row a fresh set of attempts (after fixing the cause)."""
    now = timezone.now()
    with transaction.atomic():
        updated = OutboxEmail.objects.filter(pk=row.pk, status=Status.FAILED).update(
            status=Status.QUEUED, attempts=0, send_after=None, enqueued_at=now, updated_at=now
        )
        if updated:
            EmailLog.objects.create(
                email_id=row.pk, status=Status.QUEUED, message="retry" + (f" by {by}" if by else "")
            )
            publish_on_commit([row.pk])
    return bool(updated)


def cancel(row: OutboxEmail, *, by: str = "") -> bool:
    """Cancel a row that has not been sent yet (scheduled or queued)."""
    reason = "cancelled by staff" + (f" ({by})" if by else "")
    with transaction.atomic():
        updated = OutboxEmail.objects.filter(pk=row.pk, status__in=(Status.SCHEDULED, Status.QUEUED)).update(
            status=Status.CANCELLED, last_error=reason, updated_at=timezone.now()
        )
        if updated:
            EmailLog.objects.create(email_id=row.pk, status=Status.CANCELLED, message=reason)
    return bool(updated)


def send_outlook(row: OutboxEmail) -> str | None:
    """Why ``row`` will not reach the customer when the worker sends it, in
    the staff member's language; None if nothing the sender checks stops it."""
    from ..delivery.errors import recipient_problem

    address = row.expected_recipient()
    if not address:
        return gettext("the order has no email address")
    if recipient_problem([address]):
        return gettext("the recipient %(address)s is not exactly one valid email address") % {
            "address": repr(address)
        }
    # The pre_send receivers (suppression, cart checks), checking only; a
    # resend is never held to the frequency cap.
    draft = SendDraft(recipient=address, dry_run=True)
    try:
        pre_send.send(sender=row.content_type.model_class(), email=row, order=row.order, draft=draft)
    except SendVetoed as veto:
        return veto.staff_message
    return None
