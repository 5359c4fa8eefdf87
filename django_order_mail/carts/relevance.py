"""Checks right before an abandoned-cart reminder goes out (``docs/abandoned-cart.rst``).

Two receivers of the core's signals (``docs/signals.rst``), connected by the
app config:

* :func:`stop_stale_reminder` (``pre_send``): a reminder is **cancelled** if
  the customer ordered since (this cart, another of their carts, or an order
  the shop recorded), emptied the cart, turned reminders off, or came back
  to the cart after the reminder was written — re-checked now, not only
  when it was scheduled;
* :func:`give_coupon` (``pre_render``): a reminder that goes out gets its
  coupon, if the policy allows (:mod:`.incentives`), and the subject staff
  set for its step. ``pre_render`` comes after the core's commercial
  frequency cap, so a reminder the cap skips costs no coupon.

Suppressed and unsubscribed addresses are stopped by the suppression
receiver of the tracking app, against the address actually used.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from ..exceptions import SendVetoed
from ..outbox.addresses import normalize_address
from ..outbox.models import OutboxEmail, Status
from ..rendering.render import resolve_language
from .events import ABANDONED_CART
from .incentives import attach_coupon
from .mixins import AbandonedCartMixin
from .models import CartRecovery

logger = logging.getLogger("django_order_mail.carts")


def _is_reminder(email: OutboxEmail, order) -> bool:
    return email.event == ABANDONED_CART and not email.is_test and isinstance(order, AbandonedCartMixin)


def stop_stale_reminder(sender, email, order, draft, **kwargs) -> None:
    """The ``pre_send`` receiver: cancel a reminder that no longer applies."""
    if not _is_reminder(email, order):
        return
    try:
        reason = cart_stop_reason(email, order)
    except Exception as exc:
        # A shop hook failed: "no order since" cannot be confirmed, and a
        # reminder after an order is the complaint this check prevents.
        logger.exception("Checking cart reminder %s failed", email.pk)
        reason = f"could not check the cart: {type(exc).__name__}: {exc}"
        raise SendVetoed(reason[:2000], status=Status.FAILED) from exc
    if reason:
        raise SendVetoed(reason, status=Status.CANCELLED)


def give_coupon(sender, email, order, draft, **kwargs) -> None:
    """The ``pre_render`` receiver: the reminder goes out, so it may carry a
    coupon, and its step's subject."""
    if not _is_reminder(email, order):
        return
    if draft.recipient:
        attach_coupon(email, order, draft.recipient, timezone.now())
    subject = step_subject(email)
    # A running subject A/B test (the tracking app's receiver, before this
    # one) chose already: the experiment wins over the step's subject.
    if subject and not draft.subject_template:
        draft.subject_template = subject


def step_subject(row: OutboxEmail) -> str:
    """The subject staff set for the row's step when it was written, if the
    email is in the subject's language (else the template's subject: a
    customer only ever reads their own language)."""
    extra = row.extra if isinstance(row.extra, dict) else {}
    subject = str(extra.get("subject") or "")
    if not subject:
        return ""
    written_in = resolve_language(extra.get("subject_language") or settings.LANGUAGE_CODE).lower()
    return subject if resolve_language(row.language).lower() == written_in else ""


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
