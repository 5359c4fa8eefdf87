"""Checks right before a commercial email goes out (``docs/abandoned-cart.rst``).

The sender asks, through its ``pre_send`` signal (:func:`check_cart_and_cap`,
``docs/signals.rst``), after claiming a row and before rendering it:

* an abandoned-cart reminder is **cancelled** if the customer ordered since
  (this cart, another of their carts, or an order the shop recorded), emptied
  the cart, turned reminders off, or came back to the cart after the
  reminder was written — re-checked now, not only when it was scheduled;
* any commercial email (``COMMERCIAL_EVENTS``) is held to the per-address
  **frequency cap** ``COMMERCIAL_FREQUENCY_CAP``, so overlapping flows never
  send one customer several of them in a day: it is **skipped** (events in
  ``defer``: postponed until the cap allows) with the reason in the send log;
* a reminder that goes out gets its coupon here, if the policy allows
  (:mod:`.incentives`).

Suppressed and unsubscribed addresses are stopped by the suppression
receiver, which runs first, against the address actually used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..app_settings import app_settings
from ..events import COMMERCIAL_EVENTS, MailEvent
from ..exceptions import SendVetoed
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail, Status
from .incentives import attach_coupon
from .mixins import AbandonedCartMixin
from .models import CartRecovery

logger = logging.getLogger("django_order_mail.carts")


@dataclass(frozen=True)
class Verdict:
    """Not now: the row's new status, why, and fields to store with it."""

    status: str
    reason: str
    fields: dict = field(default_factory=dict)


def check_cart_and_cap(sender, email, order, draft, **kwargs) -> None:
    """The ``pre_send`` receiver (``docs/signals.rst``): stop ``email`` with
    the verdict of :func:`check_before_send`. Connected after the
    suppression check, so a suppressed address is recorded as suppressed
    (the stronger reason) and never counts against the cap."""
    verdict = check_before_send(email, order, dry_run=draft.dry_run, address=draft.recipient)
    if verdict is not None:
        raise SendVetoed(verdict.reason, status=verdict.status, fields=verdict.fields)


def check_before_send(
    row: OutboxEmail, obj, now: datetime | None = None, *, dry_run: bool = False, address: str | None = None
) -> Verdict | None:
    """Why ``row`` must not be sent now (a :class:`Verdict`), or None to send
    it. ``dry_run``: check only (no coupon is issued)."""
    if row.is_test:
        return None  # staff test emails: sent as previewed
    now = now or timezone.now()
    is_cart = row.event == MailEvent.ABANDONED_CART and isinstance(obj, AbandonedCartMixin)
    if is_cart:
        try:
            reason = cart_stop_reason(row, obj)
        except Exception as exc:
            # A shop hook failed: "no order since" cannot be confirmed, and a
            # reminder after an order is the complaint this check prevents.
            logger.exception("Checking cart reminder %s failed", row.pk)
            reason = f"could not check the cart: {type(exc).__name__}: {exc}"
            return Verdict(Status.FAILED, reason[:2000])
        if reason:
            return Verdict(Status.CANCELLED, reason)
    if row.event not in COMMERCIAL_EVENTS:
        return None
    address = row.expected_recipient(obj) if address is None else address
    if not address:
        return None
    if row.resend_of_id is None:
        verdict = frequency_cap(row, address, now)
        if verdict is not None:
            return verdict
    if is_cart and not dry_run:
        attach_coupon(row, obj, address, now)
    return None


def cart_stop_reason(row: OutboxEmail, cart: AbandonedCartMixin) -> str | None:
    """Why the reminder about ``cart`` no longer applies, or None."""
    if cart.ordered_at is not None:
        return f"the cart was ordered at {cart.ordered_at:%Y-%m-%d %H:%M} UTC; the sequence stopped"
    since = cart.email_captured_at or cart.last_activity_at
    if cart.has_order_since(since):
        return "the customer placed an order since giving their email; the sequence stopped"
    address = row.expected_recipient(cart)
    recovered = CartRecovery.objects.filter(recipient=normalize_address(address), recovered_at__gte=since)
    if address and recovered.exists():
        return "the customer recovered another cart since; the sequence stopped"
    if cart.reminders_off:
        return "reminders for this cart were turned off"
    if cart.emptied_at is not None or not cart.get_cart_items():
        return "the cart is empty"
    if cart.last_activity_at > row.created_at:
        return "the customer came back to the cart after this reminder was written"
    return None


def frequency_cap(row: OutboxEmail, address: str, now: datetime) -> Verdict | None:
    """Skip (or postpone) ``row`` if ``address`` already got the allowed
    number of commercial emails within the window.

    Rows being sent at the same moment count only if their id is lower, so
    two workers sending two commercial emails to one address at once send
    exactly one of them, never both and never neither.
    """
    cap = app_settings.COMMERCIAL_FREQUENCY_CAP
    if not cap or not address or not cap.get("max"):
        return None
    limit = int(cap["max"])
    hours = float(cap.get("hours") or 24)
    since = now - timedelta(hours=hours)
    counted = (
        OutboxEmail.objects.filter(event__in=COMMERCIAL_EVENTS, is_test=False)
        .filter(
            Q(status=Status.SENT, sent_at__gte=since)
            | Q(status=Status.SENDING, pk__lt=row.pk, claimed_at__gte=since)
        )
        # Case-insensitive, as mailboxes are. The time window (partial
        # indexes on sent and sending rows) bounds what this compares.
        .filter(recipient__iexact=normalize_address(address))
        .exclude(pk=row.pk)
    )
    # Every row has one: a sent row its sent_at, a sending row its claimed_at (filtered above).
    stamps = [sent_at or claimed_at for sent_at, claimed_at in counted.values_list("sent_at", "claimed_at")]
    times = sorted((t for t in stamps if t is not None), reverse=True)
    if len(times) < limit:
        return None
    shown = f"{hours:g}"
    reason = (
        f"frequency cap: {len(times)} commercial email(s) went to this address in the last {shown} h "
        f"(at most {limit})"
    )
    if row.event in (cap.get("defer") or ()):
        # The limit-th newest email leaves the window first.
        when = times[limit - 1] + timedelta(hours=hours)
        reason = f"{reason}; postponed to {when:%Y-%m-%d %H:%M} UTC"
        # Waiting for the cap is not a delivery attempt: keep the retry budget.
        return Verdict(Status.SCHEDULED, reason, {"send_after": when, "attempts": max(row.attempts - 1, 0)})
    return Verdict(Status.SKIPPED, reason)
