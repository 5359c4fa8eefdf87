"""From django-fsm transitions to pending emails.

django-fsm-2 sends ``post_transition`` *before* the order is saved, so the
receiver only notes what to send on the instance. The mixin's own
:meth:`OrderMailContextMixin.save` writes those notes to the outbox right
after the row, in one ``transaction.atomic`` block, so both commit together.
Nothing here talks to the broker.
"""

from __future__ import annotations

import inspect
import logging
from decimal import Decimal

from django.dispatch import receiver
from django.utils import timezone
from django_fsm.signals import post_transition

from ..events import SHIPMENT_EVENTS, MailEvent, events_fired_by, get_event
from ..outbox.enqueue import PendingMail
from ..outbox.models import OutboxEmail

logger = logging.getLogger("django_order_mail.lifecycle")

#: Transition arguments that steer the mail rather than go into its context.
_CONTROL_ARGS = {"self", "shipment", "notify"}


def _json_safe(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def _bound_arguments(sender, name, instance, args, kwargs) -> dict:
    """The transition's arguments by name, whether passed by position or not."""
    method = getattr(sender, name, None)
    if not callable(method):  # inspect.signature would raise TypeError
        return dict(kwargs)
    try:
        bound = inspect.signature(method).bind(instance, *args, **kwargs)
    except (TypeError, ValueError):
        return dict(kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def pending_for_transition(instance, name: str, arguments: dict, target: str = "") -> list[PendingMail]:
    """The emails transition ``name`` fires: the model's ``mail_transitions``,
    then registered events that name the transition (``docs/events.rst``)."""
    events = tuple(dict.fromkeys([*instance.mail_transitions.get(name, ()), *events_fired_by(name)]))
    notify = arguments.get("notify", True) is not False
    shipment = arguments.get("shipment")
    extra = {
        k: _json_safe(v)
        for k, v in arguments.items()
        if k not in _CONTROL_ARGS and not k.startswith("_") and v not in (None, "")
    }
    if target == "partially_shipped":
        # Rendered later, when the order may be fully shipped: keep the fact.
        extra["partial_shipment"] = True
    pending = []
    for event in events:
        mail = PendingMail(str(event), notify=notify, extra=extra)
        if event in SHIPMENT_EVENTS:
            mail.shipment = shipment
            if shipment is None and event == MailEvent.SHIPPING_CONFIRMATION:
                mail.skip_reason = "no shipment was given to the shipping transition"
        registered = get_event(event)
        if registered is not None and registered.delay is not None:
            # A follow-up (the feedback request): due some time after the transition.
            mail.send_after = timezone.now() + registered.delay(instance)
        if event == MailEvent.PAYMENT_FAILED:
            # Each failed attempt is its own email; concurrent duplicates of
            # the same attempt still collapse onto one key.
            previous = OutboxEmail.for_order(instance).filter(event=event).count()
            mail.discriminator = f"attempt-{previous + 1}"
        pending.append(mail)
    return pending


@receiver(post_transition, dispatch_uid="django_order_mail.post_transition")
def on_post_transition(sender, instance, name, source, target, **kwargs):
    mapping = getattr(sender, "mail_transitions", None)
    if mapping is None or kwargs.get("exception") is not None:
        return
    arguments = _bound_arguments(
        sender, name, instance, kwargs.get("method_args", ()), kwargs.get("method_kwargs", {})
    )
    for mail in pending_for_transition(instance, name, arguments, target):
        instance.queue_mail(mail)
    if target in instance.mail_cancel_scheduled_states:
        instance.__dict__["_order_mail_cancel"] = f"order moved to {target}"
