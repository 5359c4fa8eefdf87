"""The exceptions django-order-mail raises, under one root.

Catch :class:`OrderMailError` to handle anything the app raises on purpose
(``docs/signals.rst`` shows where each one comes from).
"""

from __future__ import annotations

__all__ = ["OrderMailError", "SendVetoed"]


class OrderMailError(Exception):
    """The root of every exception django-order-mail raises on purpose."""


class SendVetoed(OrderMailError):  # noqa: N818 - a decision, not an error (as AnymailCancelSend)
    """Raised by a :data:`~django_order_mail.signals.pre_send` (or
    :data:`~django_order_mail.signals.pre_render`) receiver, and returned by
    the core's commercial frequency cap: do not send this email now.

    ``status`` is what the outbox row becomes: ``"suppressed"`` (the address
    must not get it), ``"cancelled"`` (it no longer applies), ``"skipped"``
    (not now, e.g. a frequency cap) or ``"failed"`` (it cannot be checked).
    ``reason`` goes into the send log (English, like the rest of the log);
    ``staff_message``, if given, is what the admin shows staff before a
    resend (translated); ``fields`` are more outbox fields to store with the
    new status (say, ``send_after`` for a postponed email).
    """

    def __init__(self, reason: str, *, status: str = "skipped", staff_message: str = "", fields=None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.staff_message = staff_message or reason
        self.fields = dict(fields or {})
