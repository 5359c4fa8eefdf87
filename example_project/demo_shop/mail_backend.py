"""An email backend that writes each message where a person can open it.

Every message becomes two files in ``settings.SENT_MAIL_DIR``:

* ``<stamp>-<outbox id>-<event>-<id>.eml`` - the full MIME message as an ESP
  would receive it (open it in Thunderbird, Apple Mail, Outlook...);
* the same name with ``.html`` - the HTML part, to open in a browser.

Like an Anymail backend it sets ``message.anymail_status`` with the message
id the "ESP" assigned, which django_order_mail records on the outbox row.
``DEMO_MAIL_FAILURE_RATE`` (0..1) makes that fraction of sends fail with an
HTTP 503, so the retry/backoff path can be watched in the worker log.
"""

from __future__ import annotations

import html
import logging
import os
import random
import re
import uuid
from datetime import datetime
from pathlib import Path

import requests
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus, AnymailStatus
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger("demo_shop.mail")

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def message_file_stem(message_id: str) -> str:
    """The part of the file name that identifies a message."""
    return _UNSAFE.sub("_", message_id)


def find_message_files(message_id: str, directory: Path | None = None) -> dict[str, Path]:
    """{".eml": path, ".html": path} of a sent message (empty if not on disk)."""
    if not message_id:
        return {}
    directory = Path(directory or settings.SENT_MAIL_DIR)
    stem = message_file_stem(message_id)
    return {path.suffix: path for path in directory.glob(f"*-{stem}.*") if path.suffix in {".eml", ".html"}}


def _fake_response(status: int, reason: str, retry_after: int | None = None) -> requests.Response:
    """An HTTP response like an ESP's, for the simulated failure (Anymail's
    exception formatting and django_order_mail's Retry-After handling read it)."""
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response._content = b'{"message": "simulated outage"}'
    response.headers["Content-Type"] = "application/json"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class FileEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently=False, directory=None, failure_rate=None, **kwargs):
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = Path(directory or settings.SENT_MAIL_DIR)
        self.failure_rate = (
            failure_rate if failure_rate is not None else getattr(settings, "DEMO_MAIL_FAILURE_RATE", 0)
        )

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages or []:
            try:
                if self._send(message):
                    sent += 1
            except Exception:
                if not self.fail_silently:
                    raise
        return sent

    def _send(self, message) -> bool:
        recipients = message.recipients()
        if not recipients:
            return False
        if self.failure_rate and random.random() < self.failure_rate:
            raise AnymailAPIError(
                "Simulated ESP outage (DEMO_MAIL_FAILURE_RATE)",
                status_code=503,
                response=_fake_response(503, "Service Unavailable", retry_after=5),
                email_message=message,
                esp_name="Demo ESP",
            )
        message_id = f"demo-{uuid.uuid4().hex}"
        domain = (message.from_email or "demo@localhost").rpartition("@")[2].strip("> ") or "localhost"
        message.extra_headers.setdefault("Message-ID", f"<{message_id}@{domain}>")

        metadata = getattr(message, "metadata", None) or {}
        outbox_id = metadata.get("outbox_id") or message.extra_headers.get("X-Order-Mail-Id") or "0"
        event = metadata.get("event") or "message"
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        safe_id, safe_event = _UNSAFE.sub("_", str(outbox_id)), _UNSAFE.sub("_", event)
        stem = f"{stamp}-{safe_id}-{safe_event}-{message_file_stem(message_id)}"

        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.directory / f"{stem}.eml", message.message().as_bytes(linesep="\r\n"))
        _atomic_write(self.directory / f"{stem}.html", self._html_of(message).encode("utf-8"))

        status = AnymailStatus()
        status.set_recipient_status({addr: AnymailRecipientStatus(message_id, "sent") for addr in recipients})
        message.anymail_status = status
        logger.info("Wrote %s to %s (%s)", message.subject, ", ".join(recipients), stem)
        return True

    @staticmethod
    def _html_of(message) -> str:
        for content, mimetype in getattr(message, "alternatives", None) or []:
            if mimetype == "text/html":
                return content
        if getattr(message, "content_subtype", "") == "html":
            return message.body
        return (
            '<!doctype html><meta charset="utf-8"><title>'
            + html.escape(message.subject or "")
            + '</title><pre style="white-space:pre-wrap;font:14px/1.5 sans-serif">'
            + html.escape(message.body or "")
            + "</pre>"
        )
