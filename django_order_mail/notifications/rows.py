"""The outbox rows of an internal event: one per staff recipient.

Called by :func:`django_order_mail.outbox.enqueue.enqueue` for every
internal event a transition fires, so the rows are written in the
transition's transaction like every email, and delivered, retried and
logged like every email.

**One row per recipient**, not one email to all: each address gets its own
delivery status, retries and bounce handling (an old colleague's dead
mailbox bounces alone and is suppressed alone; the others still get it).

**Nothing doubled.** Each row's idempotency key is the event's usual key
(order, event, shipment, discriminator) plus the recipient
(``:to-<hash of the address>``; the address itself is not in the key), so a
second transition, a retry or a second process writes nothing new. And an
event already written for an order is not written again even if staff
changed the recipients in between (nobody gets a second copy, a new
recipient does not get an old event). A single address from the settings
keeps the event's usual key, the one rows written before the admin existed
have.

**Nothing lost.** An event that should reach staff but has nobody to reach
(every staff user deactivated, no support address, ``notify=False``,
``DISABLED_EVENTS``) is written once as ``skipped`` with the reason.
Switched off, not set up, or an order under the high-value threshold: there
is nothing to tell, and nothing is written.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.conf import settings

from ..app_settings import app_settings
from ..events import StaffEvent
from ..lifecycle.hooks import order_total
from ..outbox.models import OutboxEmail, Status
from .models import HighValueThreshold
from .recipients import Recipients, admin_rows, staff_recipients

#: The skip reason of a transition called with ``notify=False``: it emails
#: nobody, staff included (a marketplace back-fill must not flood the team).
NOT_NOTIFIED = "moved with notify=False: nobody was emailed, staff included"


def recipient_key(base: str, address: str) -> str:
    """``base`` plus a short hash of the normalised address, at most 255 characters."""
    digest = hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]
    key = f"{base}:to-{digest}"
    if len(key) > 255:
        key = base[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


class WrittenKeys:
    """The idempotency keys of the order's staff rows, read once (one indexed
    lookup of the order's rows) and only if some staff event is to be written."""

    def __init__(self, content_type_id: int, object_id: str, events):
        self._where = {"content_type_id": content_type_id, "object_id": object_id, "event__in": list(events)}
        self._keys: list[str] | None = None

    def has(self, base: str) -> bool:
        """Whether the event of key ``base`` was written before, to anyone."""
        if self._keys is None:
            self._keys = list(
                OutboxEmail.objects.filter(**self._where).values_list("idempotency_key", flat=True)
            )
        return any(key == base or key.startswith(base + ":to-") for key in self._keys)


def high_value(order, target: Recipients) -> dict | None:
    """The row's ``extra`` if ``order`` is at or above the threshold of its
    currency; None if it is not (or cannot be compared).

    The threshold is the admin's in the order's currency: the row's own, or
    one of its thresholds in other currencies (read only for an order in
    another currency, so the usual order costs no query). A threshold without
    a currency (set before the admin asked for one) applies to every order.
    """
    if target.threshold is None:
        return None
    amount, currency = order_total(order)
    if amount is None:
        return None
    threshold: Decimal | None = target.threshold
    threshold_currency = target.currency or currency
    if target.currency and currency != target.currency:
        threshold = other_threshold(target.event, currency) if currency else None
        threshold_currency = currency
    if threshold is None or amount < threshold:
        return None
    return {
        "order_total": str(amount),
        "threshold": str(threshold),
        "threshold_currency": threshold_currency,
    }


def other_threshold(event: str, currency: str) -> Decimal | None:
    """The admin's threshold of ``event`` in ``currency`` besides its own, or None."""
    return (
        HighValueThreshold.objects.filter(notification__event=event, currency=currency)
        .values_list("threshold", flat=True)
        .first()
    )


def staff_rows(order, mails: list, *, fields: dict, now) -> list[OutboxEmail]:
    """The unsaved outbox rows of the internal events ``mails`` (``PendingMail``
    objects) about ``order``. ``fields`` are the row fields ``enqueue``
    computed for the order (content type, object id, reference, channel,
    created_at, claim token); the language is the shop's, the recipients
    are staff. The admin's rows of all of them are read in one query."""
    configured = admin_rows(m.event for m in mails)
    written = WrittenKeys(fields["content_type"].pk, fields["object_id"], {m.event for m in mails})
    rows: list[OutboxEmail] = []
    for mail in mails:
        rows += _rows_of(order, mail, configured.get(mail.event), written, fields=fields, now=now)
    return rows


def _rows_of(order, mail, admin_row, written: WrittenKeys, *, fields: dict, now) -> list[OutboxEmail]:
    event = mail.event
    target = staff_recipients(event, order, row=admin_row)
    if not target.active:
        return []
    extra = dict(mail.extra or {})
    if event == StaffEvent.HIGH_VALUE_ORDER:
        over = high_value(order, target)
        if over is None:
            return []
        extra.update(over)
    from ..outbox.enqueue import idempotency_key

    base = idempotency_key(order, event, mail.shipment, mail.discriminator)
    if written.has(base):
        return []
    reason = mail.skip_reason
    if not reason and event in app_settings.DISABLED_EVENTS:
        reason = "event disabled in ORDER_MAIL['DISABLED_EVENTS']"
    if not reason and not mail.notify:
        reason = NOT_NOTIFIED
    if not reason and not target.addresses:
        reason = target.missing

    def row(key: str, recipient: str, status: str, error: str = "") -> OutboxEmail:
        return OutboxEmail(
            idempotency_key=key,
            event=event,
            status=status,
            shipment=mail.shipment,
            # Staff read it: the shop's language, not the customer's.
            language=str(settings.LANGUAGE_CODE)[:15],
            recipient=recipient[:254],
            extra=extra,
            send_after=mail.send_after if status == Status.SCHEDULED else None,
            enqueued_at=now if status == Status.QUEUED else None,
            last_error=error,
            **fields,
        )

    if reason:
        return [row(base, "", Status.SKIPPED, reason)]
    status = Status.SCHEDULED if mail.send_after and mail.send_after > now else Status.QUEUED
    per_address = target.from_admin or len(target.addresses) > 1
    return [
        row(recipient_key(base, address) if per_address else base, address, status)
        for address in target.addresses
    ]
