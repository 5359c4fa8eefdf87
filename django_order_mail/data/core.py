"""The core's own personal data: the send log (``OutboxEmail``) and its
timelines (``EmailLog``), registered from the core's app config."""

from __future__ import annotations

import re
from datetime import datetime

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from ..outbox.models import ACTIVE_STATUSES, EmailLog, OutboxEmail
from .registry import ERASED, ERASED_ADDRESS, outbox_protections, register_personal_data
from .retention import RetentionRun


def emails_of(address: str):
    """The address's rows of the send log (stored as given: compared case-insensitively)."""
    return OutboxEmail.objects.filter(recipient__iexact=address.strip())


def export_emails(address: str) -> list[dict]:
    rows = emails_of(address).order_by("created_at", "id")
    return [
        {
            "id": row.pk,
            "event": row.event,
            "status": row.status,
            "order_number": row.reference,
            "customer_name": row.customer_name,
            "subject": row.subject,
            "language": row.language,
            "created_at": row.created_at,
            "sent_at": row.sent_at,
            "delivery_status": row.delivery_status,
            "opened_at": row.opened_at,
            "clicked_at": row.clicked_at,
            "timeline": [
                {"at": log.created_at, "status": log.status, "detail": log.message} for log in row.logs.all()
            ],
        }
        for row in rows.prefetch_related("logs")
    ]


def erase_emails(address: str, keyed_hash: str) -> int:
    """Anonymise the address's rows: address, name, subject, bodies and event
    data go; event, status, dates and counters stay (the statistics)."""
    ids = list(emails_of(address).values_list("pk", flat=True))
    pattern = re.compile(re.escape(address.strip()), re.IGNORECASE)
    for log in EmailLog.objects.filter(email__in=ids, message__icontains=address.strip()):
        log.message = pattern.sub(ERASED_ADDRESS, log.message)
        log.save(update_fields=["message"])
    for row in OutboxEmail.objects.filter(pk__in=ids, last_error__icontains=address.strip()):
        OutboxEmail.objects.filter(pk=row.pk).update(last_error=pattern.sub(ERASED_ADDRESS, row.last_error))
    return OutboxEmail.objects.filter(pk__in=ids).update(
        recipient=ERASED_ADDRESS, customer_name="", subject=ERASED, body_text="", body_html="", extra={}
    )


def _expirable(now: datetime):
    """Rows retention may touch: final, not pointed to by a resend, not
    needed by an installed app."""
    rows = OutboxEmail.objects.exclude(status__in=ACTIVE_STATUSES).exclude(
        Exists(OutboxEmail.objects.filter(resend_of=OuterRef("pk")))
    )
    protected = outbox_protections(now)
    return rows.exclude(protected) if protected is not None else rows


def expire_bodies(cutoff: datetime, run: RetentionRun) -> int:
    """Strip the bodies (what was sent, kept for staff) of older rows."""
    rows = OutboxEmail.objects.exclude(status__in=ACTIVE_STATUSES).exclude(body_text="", body_html="")
    return run.update(run.older_than(rows, cutoff), body_text="", body_html="")


def expire_send_log(cutoff: datetime, run: RetentionRun) -> int:
    """Delete older rows with their timelines."""
    return run.delete(run.older_than(_expirable(run.now), cutoff))


def register() -> None:
    register_personal_data(
        "bodies",
        verbose_name=_("email bodies"),
        retention=expire_bodies,
        retention_days=90,
        order=900,
    )
    register_personal_data(
        "send_log",
        verbose_name=_("send log and timelines"),
        export=export_emails,
        erase=erase_emails,
        retention=expire_send_log,
        retention_days=730,
        order=1000,
    )


__all__ = ["emails_of", "register"]
