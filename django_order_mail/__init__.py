"""django-order-mail: order-lifecycle emails through an outbox, Celery and Anymail.

The public API is importable from the package root (``docs/api.rst``)::

    from django_order_mail import OrderMailMixin, MailEvent, SendVetoed, pre_send

Names are loaded on first use (PEP 562), so importing the package in
``settings.py`` or an ``AppConfig`` does not import Django models before the
app registry is ready. Everything else is internal and may change.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_API = {
    # lifecycle
    "OrderMailMixin": "django_order_mail.lifecycle.mixins",
    "OrderMailContextMixin": "django_order_mail.lifecycle.mixins",
    "OrderState": "django_order_mail.lifecycle.states",
    "Shipment": "django_order_mail.lifecycle.shipments",
    "MailEvent": "django_order_mail.events",
    # outbox
    "OutboxEmail": "django_order_mail.outbox.models",
    "EmailLog": "django_order_mail.outbox.models",
    "Status": "django_order_mail.outbox.models",
    "DeliveryStatus": "django_order_mail.outbox.delivery_status",
    "PendingMail": "django_order_mail.outbox.enqueue",
    "enqueue": "django_order_mail.outbox.enqueue",
    "cancel_scheduled": "django_order_mail.outbox.enqueue",
    # rendering
    "build_context": "django_order_mail.rendering.context",
    "register_context_builder": "django_order_mail.rendering.context",
    "render_event": "django_order_mail.rendering.render",
    # signals and exceptions
    "SendDraft": "django_order_mail.signals",
    "collect_context": "django_order_mail.signals",
    "delivery_status_changed": "django_order_mail.signals",
    "email_failed": "django_order_mail.signals",
    "email_queued": "django_order_mail.signals",
    "email_sent": "django_order_mail.signals",
    "emails_claimed": "django_order_mail.signals",
    "pre_render": "django_order_mail.signals",
    "pre_send": "django_order_mail.signals",
    "OrderMailError": "django_order_mail.exceptions",
    "SendVetoed": "django_order_mail.exceptions",
    # settings
    "get_setting": "django_order_mail.conf",
}

__all__ = [
    "DeliveryStatus",
    "EmailLog",
    "MailEvent",
    "OrderMailContextMixin",
    "OrderMailError",
    "OrderMailMixin",
    "OrderState",
    "OutboxEmail",
    "PendingMail",
    "SendDraft",
    "SendVetoed",
    "Shipment",
    "Status",
    "__version__",
    "build_context",
    "cancel_scheduled",
    "collect_context",
    "delivery_status_changed",
    "email_failed",
    "email_queued",
    "email_sent",
    "emails_claimed",
    "enqueue",
    "get_setting",
    "pre_render",
    "pre_send",
    "register_context_builder",
    "render_event",
]


def __getattr__(name: str) -> Any:
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))


if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ loads them
    from .conf import get_setting
    from .events import MailEvent
    from .exceptions import OrderMailError, SendVetoed
    from .lifecycle.mixins import OrderMailContextMixin, OrderMailMixin
    from .lifecycle.shipments import Shipment
    from .lifecycle.states import OrderState
    from .outbox.delivery_status import DeliveryStatus
    from .outbox.enqueue import PendingMail, cancel_scheduled, enqueue
    from .outbox.models import EmailLog, OutboxEmail, Status
    from .rendering.context import build_context, register_context_builder
    from .rendering.render import render_event
    from .signals import (
        SendDraft,
        collect_context,
        delivery_status_changed,
        email_failed,
        email_queued,
        email_sent,
        emails_claimed,
        pre_render,
        pre_send,
    )
