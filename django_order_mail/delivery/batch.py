"""Send a claimed batch in one ESP API call (``ESP_BATCH_SEND``).

Some ESPs take many distinct messages in one call: Postmark's
``POST /email/batch`` takes up to 500 and answers with one result per
message, in order; a 200 answer can carry per-message errors. A
:class:`BatchSender` does that call for one Anymail backend, the Anymail way:

* each message is encoded by the backend's own ``build_message_payload``
  (after Anymail's ``pre_send`` signal, as ``AnymailBaseBackend._send``
  does), so metadata, tags, headers and attachments reach the ESP exactly
  as a one-by-one send puts them;
* :meth:`~BatchSender.build_payload` puts the encoded messages in one
  request, :meth:`~BatchSender.post` makes it with the backend's ``session``,
  ``api_url`` and timeout, :meth:`~BatchSender.parse_results` reads the
  answer for each message, setting ``message.anymail_status`` as Anymail
  does for an accepted one;
* a message the batch endpoint cannot carry (an Anymail template, another
  server token) is sent on its own by the backend, as it would be one by one.

The sender (:func:`django_order_mail.delivery.sender.deliver_batch`) records
each message's outcome on its own, right after the call. Batch senders are
registered per Anymail backend class (:func:`register`); other ESPs and
``ESP_BATCH_SEND = False`` send one message per call.

The duplicate window is wider than one by one: it is one API call. If the
worker dies after the ESP accepted a batch and before the rows are recorded,
every row of that call stays ``sending``, and the sweep sends them again
after ``SENDING_TIMEOUT`` - up to the whole chunk (at most
:attr:`BatchSender.max_messages`, and at most ``DELIVERY_BATCH_SIZE``, the
rows one task claims) may reach the customers twice. Its sibling, the read
timeout (the ESP may have taken the call, its answer never came), is retried
as one by one, so it too covers the whole chunk.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from anymail.backends.postmark import EmailBackend as PostmarkBackend
from anymail.exceptions import AnymailRequestsAPIError
from anymail.message import AnymailRecipientStatus, AnymailStatus
from anymail.utils import parse_address_list

from .errors import Verdict, classify

__all__ = [
    "BatchSender",
    "PostmarkBatchSender",
    "batch_sender_for",
    "batch_setting_warnings",
    "register",
    "sender_class_for",
]

S = TypeVar("S", bound="type[BatchSender]")

_senders: dict[type, type[BatchSender]] = {}


def register(backend_class: type) -> Callable[[S], S]:
    """Class decorator: use the decorated :class:`BatchSender` for
    ``backend_class`` (an Anymail backend class) and its subclasses."""

    def decorator(sender_class: S) -> S:
        _senders[backend_class] = sender_class
        return sender_class

    return decorator


def sender_class_for(backend_class: type | None) -> type[BatchSender] | None:
    """The batch sender registered for ``backend_class`` or its nearest base class."""
    for klass in getattr(backend_class, "__mro__", ()):
        if klass in _senders:
            return _senders[klass]
    return None


def batch_sender_for(backend) -> BatchSender | None:
    """A batch sender for the opened email backend ``backend``, or None to
    send one by one (no sender is registered, or the backend's own settings
    rule the batch endpoint out)."""
    sender_class = sender_class_for(type(backend))
    if sender_class is None or not sender_class.supports(backend):
        return None
    return sender_class(backend)


def batch_setting_warnings(raw: dict) -> list:
    """W005: ``ESP_BATCH_SEND`` is on, but ``EMAIL_BACKEND`` has no batch sender."""
    from django.core.checks import Warning
    from django.utils.module_loading import import_string

    from .connection import backend_path

    if not raw.get("ESP_BATCH_SEND"):
        return []
    path = backend_path()
    try:
        backend_class = import_string(path)
    except ImportError:
        backend_class = None
    if sender_class_for(backend_class) is not None:
        return []
    known = ", ".join(sorted(f"{klass.__module__}.{klass.__qualname__}" for klass in _senders))
    return [
        Warning(
            f"ORDER_MAIL['ESP_BATCH_SEND'] is True, but the email backend {path!r} has no "
            "batch sender: every email is sent in its own API call.",
            hint=f"Batch senders exist for {known}; register one for your backend with "
            "django_order_mail.delivery.batch.register, or set ESP_BATCH_SEND to False.",
            id="django_order_mail.W005",
        )
    ]


class BatchSender:
    """One API call for many distinct messages, through an opened Anymail
    requests backend (``AnymailRequestsBackend``).

    :meth:`send` is the template method; subclasses implement
    :meth:`encode`, :meth:`build_payload` and :meth:`parse_results` (and may
    narrow :meth:`supports`).
    """

    #: The most messages the ESP takes in one call.
    max_messages = 500

    def __init__(self, backend):
        self.backend = backend

    @classmethod
    def supports(cls, backend) -> bool:
        """Whether ``backend``, as configured, may use the batch endpoint."""
        return True

    def send(self, messages: list) -> list[Verdict | None]:
        """Send ``messages`` (at most :attr:`max_messages`); for each, None
        if the ESP accepted it (``message.anymail_status`` is set), or the
        :class:`~django_order_mail.delivery.errors.Verdict` on why not and
        whether a retry may help. A failure of the whole call (no answer,
        5xx, 429, another 4xx) is every message's verdict, as
        :func:`~django_order_mail.delivery.errors.classify` sorts it.
        """
        verdicts: list[Verdict | None] = [None] * len(messages)
        batched: list[int] = []
        parts: list[Any] = []
        for index, message in enumerate(messages):
            try:
                payload = self.message_payload(message)
                if payload is None:
                    continue  # cancelled by Anymail's pre_send: what a one-by-one send does
                part = self.encode(payload)
                if part is None:
                    verdicts[index] = self.send_alone(payload, message)
                    continue
            except Exception as exc:  # noqa: BLE001 - this message's problem (say, an unsupported feature)
                verdicts[index] = classify(exc)
                continue
            batched.append(index)
            parts.append(part)
        if not batched:
            return verdicts
        sent = [messages[index] for index in batched]
        try:
            response = self.post(self.build_payload(parts))
            results = self.parse_results(response, sent)
        except Exception as exc:  # noqa: BLE001 - the whole call failed: every message's verdict
            results = [classify(exc)] * len(sent)
        for index, verdict in zip(batched, results, strict=True):
            if messages[index].anymail_status.status is not None:  # the ESP answered for this message
                after = self.after_send(messages[index])
                verdict = verdict or after
            verdicts[index] = verdict
        return verdicts

    # -- the steps ------------------------------------------------------------
    def message_payload(self, message):
        """The backend's payload for ``message`` (Anymail's ``pre_send``
        signal first, as ``AnymailBaseBackend._send``); None if a receiver
        cancelled the send."""
        backend = self.backend
        message.anymail_status = AnymailStatus()
        if not backend.run_pre_send(message):
            return None
        return backend.build_message_payload(message, backend.send_defaults)

    def encode(self, payload) -> Any:
        """This message's part of the batch request, or None if the batch
        endpoint cannot carry it (it is then sent on its own)."""
        raise NotImplementedError

    def build_payload(self, parts: list) -> dict[str, Any]:
        """The batch request, as keyword arguments of ``requests.Session.request``."""
        raise NotImplementedError

    def post(self, payload: dict[str, Any]) -> requests.Response:
        """Make the call as Anymail's ``post_to_esp`` does: the backend's
        session and timeout; no answer or a non-2xx answer raises
        ``AnymailRequestsAPIError``."""
        backend = self.backend
        params = {"timeout": backend.timeout, **payload}
        try:
            response = backend.session.request(**params)
        except requests.RequestException as err:
            raise AnymailRequestsAPIError(f"Error posting to {params.get('url')}:", backend=backend) from err
        if not 200 <= response.status_code < 300:
            raise AnymailRequestsAPIError(response=response, backend=backend)
        return response

    def parse_results(self, response: requests.Response, messages: list) -> list[Verdict | None]:
        """One result per message of the call, in order (see :meth:`send`),
        with ``message.anymail_status`` set (as Anymail's
        ``parse_recipient_status`` would) for each message the ESP answered
        for; an answer that cannot be read raises ``AnymailRequestsAPIError``."""
        raise NotImplementedError

    def after_send(self, message) -> Verdict | None:
        """Anymail's ``post_send`` signal for a message the ESP answered for
        (accepted, or its recipient refused); a receiver's error is handled
        as a one-by-one send handles it."""
        try:
            self.backend.run_post_send(message)
        except Exception as exc:  # noqa: BLE001 - as message.send() would have raised it
            return classify(exc)
        return None

    def send_alone(self, payload, message) -> Verdict | None:
        """Send one message in its own call, as ``AnymailBaseBackend._send``
        does after building the payload."""
        backend = self.backend
        try:
            response = backend.post_to_esp(payload, message)
            message.anymail_status.esp_response = response
            recipient_status = backend.parse_recipient_status(response, payload, message)
            message.anymail_status.set_recipient_status(recipient_status)
            backend.run_post_send(message)
            backend.raise_for_recipient_status(message.anymail_status, response, payload, message)
        except Exception as exc:  # noqa: BLE001 - sorted by classify(), as one by one
            return classify(exc)
        return None


@register(PostmarkBackend)
class PostmarkBatchSender(BatchSender):
    """Postmark's ``POST /email/batch``: a JSON array of the messages
    ``/email`` takes, answered by an array of ``{"ErrorCode", "Message",
    "MessageID", "To"}``.

    The per-message error codes are read as Anymail's Postmark backend reads
    them (``anymail/backends/postmark.py``): 0 is accepted (and "delivery may
    be delayed" is queued); 300 about a To/Cc/Bcc address is an invalid
    recipient and 406 an inactive (rejected) one, both failed for good with
    Postmark's reason, as is every other code except the two Postmark's API
    documents as passing, which are retried: 100 (maintenance) and 429 (rate
    limit exceeded).
    """

    endpoint = "email/batch"
    transient_error_codes = frozenset({100, 429})
    _inactive = re.compile(r"inactive addresses:\s*(.*)\.\s*Inactive recipients", re.MULTILINE)
    _recipient_error = re.compile(r"^(Invalid|Error\s+parsing)\s+'(To|Cc|Bcc)'", re.IGNORECASE)

    @classmethod
    def supports(cls, backend) -> bool:
        # Anymail's POSTMARK_USE_BULK_API sends through /email/bulk instead.
        return not getattr(backend, "use_bulk_api", False)

    def encode(self, payload) -> dict[str, Any] | None:
        backend = self.backend
        params = payload.get_request_params(backend.api_url)  # what post_to_esp would POST
        alone = (
            params.get("url") != urljoin(backend.api_url, "email")
            or params.get("method") != "POST"
            or params.get("params")
            or params.get("files")
            or params.get("auth")
            or params["headers"].get("X-Postmark-Server-Token") != backend.server_token
        )
        return None if alone else params

    def build_payload(self, parts: list) -> dict[str, Any]:
        return {
            "method": "POST",
            "url": urljoin(self.backend.api_url, self.endpoint),
            "headers": dict(parts[0]["headers"]),
            # Each message's JSON exactly as /email would get it.
            "data": "[" + ",".join(part["data"] for part in parts) + "]",
        }

    def parse_results(self, response: requests.Response, messages: list) -> list[Verdict | None]:
        try:
            answers = response.json()
        except ValueError as err:
            raise AnymailRequestsAPIError(
                "Invalid JSON in Postmark API response", response=response, backend=self.backend
            ) from err
        if (
            not isinstance(answers, list)
            or len(answers) != len(messages)
            or not all(isinstance(answer, dict) and "Message" in answer for answer in answers)
            or any(answer.get("ErrorCode", 0) == 0 and "MessageID" not in answer for answer in answers)
        ):
            raise AnymailRequestsAPIError(
                "Invalid Postmark batch API response format", response=response, backend=self.backend
            )
        pairs = zip(answers, messages, strict=True)
        return [self._result(answer, message, response) for answer, message in pairs]

    def _result(self, answer: dict, message, response) -> Verdict | None:
        code, text = answer.get("ErrorCode", 0), str(answer["Message"])
        recipients = [address.addr_spec for address in parse_address_list(message.to)]
        message.anymail_status.esp_response = response
        if code == 0:
            status = "queued" if "delivery may be delayed" in text else "sent"
            inactive = self._addresses(text)
            message.anymail_status.set_recipient_status(
                {
                    to: AnymailRecipientStatus(None, "rejected")
                    if to.lower() in inactive
                    else AnymailRecipientStatus(answer["MessageID"], status)
                    for to in recipients
                }
            )
            if recipients and all(to.lower() in inactive for to in recipients):
                return Verdict(False, f"recipient rejected at the ESP: Postmark: {text}")
            return None
        refused = "rejected" if code == 406 else ""
        if code == 300 and self._recipient_error.match(text):
            refused = "invalid"
        if refused:
            message.anymail_status.set_recipient_status(
                {to: AnymailRecipientStatus(None, refused) for to in recipients}
            )
        reason = f"refused by Postmark (ErrorCode {code}): {text}".strip()
        return Verdict(code in self.transient_error_codes, reason[:1500])

    def _addresses(self, text: str) -> set[str]:
        match = self._inactive.search(text)
        return {email.strip().lower() for email in match.group(1).split(",")} if match else set()
