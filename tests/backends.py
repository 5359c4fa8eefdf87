"""A Django email backend whose behaviour the test controls.

``ControlledBackend.outcomes`` is a FIFO list; each send consumes one entry:
an exception instance is raised, anything else (or an empty list) means the
ESP accepted the message, and ``message.anymail_status`` is set the way
Anymail does, with a fresh message id.
"""

from __future__ import annotations

import itertools

from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus, AnymailStatus
from django.core.mail.backends.base import BaseEmailBackend


class FakeResponse:
    """Just enough of ``requests.Response`` for Anymail's exception __str__
    and for the Retry-After header."""

    def __init__(self, status_code: int, headers: dict | None = None, text: str = ""):
        self.status_code = status_code
        self.headers = headers or {}
        self.reason = "Error"
        self.text = text or '{"message": "simulated"}'

    def json(self):
        return {"message": "simulated"}


def api_error(status_code: int | None, retry_after: str | None = None, message: str = "ESP said no"):
    """An ``AnymailAPIError`` as an ESP backend raises it."""
    if status_code is None:
        return AnymailAPIError(message)
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return AnymailAPIError(message, status_code=status_code, response=FakeResponse(status_code, headers))


class ControlledBackend(BaseEmailBackend):
    outcomes: list = []
    #: every message the backend was asked to send (accepted or not)
    attempts: list = []
    #: the messages it accepted
    sent: list = []
    _ids = itertools.count(1)

    @classmethod
    def reset(cls) -> None:
        cls.outcomes = []
        cls.attempts = []
        cls.sent = []
        cls._ids = itertools.count(1)

    def send_messages(self, email_messages):
        cls = type(self)
        count = 0
        for message in email_messages:
            cls.attempts.append(message)
            outcome = cls.outcomes.pop(0) if cls.outcomes else None
            if isinstance(outcome, BaseException):
                raise outcome
            message_id = f"esp-{next(cls._ids)}"
            status = AnymailStatus()
            status.set_recipient_status(
                {to: AnymailRecipientStatus(message_id=message_id, status="sent") for to in message.to}
            )
            message.anymail_status = status
            cls.sent.append(message)
            count += 1
        return count


class AliasRecordingBackend(BaseEmailBackend):
    """Records which mailer (Django 6.1's ``MAILERS`` alias, None before 6.1)
    sent each message, and the message itself."""

    sent: list = []

    def send_messages(self, email_messages):
        for message in email_messages:
            type(self).sent.append((getattr(self, "alias", None), message))
        return len(email_messages)
