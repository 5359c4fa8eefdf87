"""The app's own signals: where features and shops plug into the core.

Each signal is sent by the core (lifecycle → outbox → delivery); the
optional features (suppression, subject A/B tests, abandoned-cart checks,
feedback, ...) are receivers of these signals, never imports of the core.
``docs/signals.rst`` documents every argument with examples. ``sender`` is
always the order's model class (for an abandoned-cart reminder, the cart's),
so a receiver can listen to one model only.

* :data:`email_queued` — a row was written to the outbox.
* :data:`collect_context` — an email's template context is being built
  (sending or previewing): add variables.
* :data:`emails_claimed` — a worker claimed a batch of rows (prefetch here).
* :data:`pre_send` — right before one email is rendered and sent: veto it
  (raise :class:`~django_order_mail.exceptions.SendVetoed`) or adjust it.
* :data:`pre_render` — the email passed every check and the commercial
  frequency cap: adjust what goes out (a subject variant, headers, a coupon).
* :data:`email_sent` — the ESP accepted an email.
* :data:`email_failed` — an email failed for good, or will be retried.
* :data:`delivery_status_changed` — an ESP webhook moved an email's
  delivery status (delivered, bounced, opened, ...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.dispatch import Signal

logger = logging.getLogger("django_order_mail.signals")

__all__ = [
    "SendDraft",
    "collect_context",
    "delivery_status_changed",
    "email_failed",
    "email_queued",
    "email_sent",
    "emails_claimed",
    "pre_render",
    "pre_send",
    "send_robustly",
]

#: A row was written to the outbox, inside the transaction that writes it
#: (before the commit: a receiver's own writes commit or roll back with it).
#: Arguments: ``email`` (the ``OutboxEmail``), ``order``.
email_queued = Signal()

#: An email's template context is being built, to send it or to preview
#: it. Arguments: ``event``, ``order``, ``context`` (the dict to add
#: variables to), ``email_id`` (the outbox row; None or 0 for a preview),
#: ``extra`` (the row's stored event data). Links built here inside the
#: admin preview are preview links (``docs/security.rst``). The order's own
#: ``get_mail_extra_context()`` is applied after the receivers.
collect_context = Signal()

#: A worker claimed ``emails`` (a list of ``OutboxEmail``, their orders
#: loaded) to send them one by one; receivers may fetch what every email of
#: the batch will need in one query (:mod:`django_order_mail.memo`).
#: ``sender`` is ``OutboxEmail``. Sent inside the batch's memo scope.
emails_claimed = Signal()

#: Right before an email is rendered and sent, in the worker (never for a
#: staff test email). Arguments: ``email`` (the claimed ``OutboxEmail``),
#: ``order``, ``draft`` (a :class:`SendDraft` to adjust). Raise
#: :class:`~django_order_mail.exceptions.SendVetoed` to stop the email; the
#: first veto wins, receivers run in the order they were connected. Also sent
#: with ``draft.dry_run`` True when the admin predicts whether a resend will
#: go out: receivers must then check only, and change nothing.
pre_send = Signal()

#: The email passed every :data:`pre_send` receiver and the core's
#: commercial frequency cap (``docs/settings.rst``): it is about to be
#: rendered and sent. Same arguments as :data:`pre_send`; never sent for a
#: dry run. Receivers adjust what goes out and may spend something on it
#: (a subject test's variant, unsubscribe headers, a coupon issued for this
#: email), which is why this comes after every check that could still stop
#: the email. A receiver may still raise ``SendVetoed``.
pre_render = Signal()

#: The ESP accepted an email. Arguments: ``email`` (status ``sent``, with
#: ``esp_message_id``), ``order``, ``message`` (the ``EmailMessage`` sent).
email_sent = Signal()

#: An email could not be sent. Arguments: ``email``, ``order`` (None if it
#: no longer exists), ``reason``, ``permanent`` (False: it will be retried).
email_failed = Signal()

#: An ESP webhook moved an email's delivery status. Arguments: ``email``,
#: ``status`` (the new ``DeliveryStatus``), ``previous``, ``event`` (Anymail's
#: ``AnymailTrackingEvent``).
delivery_status_changed = Signal()


@dataclass
class SendDraft:
    """What :data:`pre_send` and :data:`pre_render` receivers may adjust
    before an email is rendered.

    ``recipient`` is the one address it goes to (already checked to be one
    valid address). ``subject_template`` replaces the template's subject
    (rendered in the sandbox, see ``docs/security.rst``); ``context`` is
    added to the template context; ``headers`` to the message's headers.
    ``dry_run`` is True when nothing will be sent (the admin's resend check).
    """

    recipient: str
    subject_template: str = ""
    context: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    dry_run: bool = False


def send_robustly(signal: Signal, sender, **arguments) -> None:
    """Send ``signal`` after the fact (sent, failed, status changed): a
    receiver that raises is logged and does not undo or repeat what already
    happened (an email the ESP accepted must not be sent again because a
    receiver failed)."""
    for receiver, result in signal.send_robust(sender=sender, **arguments):
        if isinstance(result, Exception):
            logger.error("A receiver of %s failed: %r", receiver, result, exc_info=result)
