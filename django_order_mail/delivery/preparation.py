"""The first phase of a send: everything between the claim and the ESP call.

:func:`prepare` runs the checks, the ``pre_send``/``pre_render`` receivers,
the frequency cap and the rendering of one claimed row, and records every
stop with its reason; what passes is a :class:`Prepared` message, ready for
one call (one by one) or a batch call (``ESP_BATCH_SEND``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError
from django.utils import timezone

from ..events import FOLLOW_UP_EVENTS
from ..exceptions import SendVetoed
from ..lifecycle.states import order_state
from ..outbox.models import OutboxEmail, Status
from ..rendering.message import build_message
from ..rendering.render import RenderedEmail, render_outbox_email
from ..signals import SendDraft, pre_render, pre_send
from .errors import recipient_problem
from .frequency import frequency_cap
from .outcome import _finish

logger = logging.getLogger("django_order_mail.delivery")


@dataclass
class Prepared:
    """A claimed row that passed every check and rendered: its message is
    ready for the ESP."""

    row: OutboxEmail
    order: Any
    rendered: RenderedEmail
    message: EmailMultiAlternatives


def _still_relevant(row: OutboxEmail, order) -> str | None:
    """Re-check right before sending (``docs/lifecycle.rst``): why not to send, or None."""
    if row.event not in FOLLOW_UP_EVENTS or row.resend_of_id is not None:
        return None  # transactional mail always goes; so does a staff resend
    cancel_states = getattr(order, "mail_cancel_scheduled_states", ())
    state = order_state(order)
    if state in cancel_states:
        return f"order is {state}"
    return None


def prepare(row: OutboxEmail) -> Prepared | str:
    """The :class:`Prepared` message, or the status the row was recorded
    with when it stops here.

    The order of the checks: the order still exists and the email still
    applies; it goes to exactly one valid address; the :data:`pre_send`
    receivers (suppression, abandoned-cart checks: ``docs/signals.rst``) let
    it go; the commercial frequency cap allows it; the :data:`pre_render`
    receivers adjust it (subject tests, unsubscribe headers, coupons); it
    renders. Each stop is recorded with its reason, never dropped.
    """
    order = row.order
    if order is None:
        _finish(row, Status.FAILED, "the order no longer exists", last_error="the order no longer exists")
        return Status.FAILED
    reason = _still_relevant(row, order)
    if reason:
        _finish(row, Status.CANCELLED, reason, last_error=reason)
        return Status.CANCELLED
    try:
        recipient = row.current_recipient(order)
    except DatabaseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken get_mail_recipient() hook
        return render_failed(row, exc)
    # One email, one address: a list ("victim@..., attacker@...") or a header
    # injection never reaches the ESP, whichever path (single, batch, resend,
    # retry) brought the row here. Failed for good; the reason is in the log.
    problem = recipient_problem([recipient])
    if problem:
        reason = f"not sent: {problem}"
        _finish(row, Status.FAILED, reason, last_error=reason)
        return Status.FAILED

    draft = SendDraft(recipient=recipient)
    try:
        pre_send.send(sender=type(order), email=row, order=order, draft=draft)
        capped = frequency_cap(row, draft.recipient, timezone.now())
        if capped is not None:
            raise capped
        pre_render.send(sender=type(order), email=row, order=order, draft=draft)
    except SendVetoed as veto:
        _finish(row, veto.status, veto.reason, last_error=veto.reason[:2000], **veto.fields)
        return veto.status

    try:
        rendered = render_outbox_email(
            row, order, subject_template=draft.subject_template, extra_context=draft.context
        )
        message = build_message(row, rendered, recipient=draft.recipient, headers=draft.headers)
    except DatabaseError:
        # The database, not the template: a dropped connection while a hook
        # read the order is retried (unexpected_error), never a render error.
        raise
    except Exception as exc:  # noqa: BLE001 - recorded as a render error
        return render_failed(row, exc)
    return Prepared(row, order, rendered, message)


def render_failed(row: OutboxEmail, exc: Exception) -> str:
    reason = f"render error: {type(exc).__name__}: {exc}"
    logger.exception("Email %s could not be rendered", row.pk)
    _finish(row, Status.FAILED, reason, last_error=reason[:2000])
    return Status.FAILED
