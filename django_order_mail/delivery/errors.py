"""Sort delivery errors into "try again later" and "will never work".

Transient: the ESP could not be reached, timed out, answered 5xx or 429.
Permanent: the ESP refused this message (other 4xx, invalid or refused
recipient) - retrying would fail the same way, so staff must see the reason.
Unknown exceptions count as transient: the attempt limit still ends them,
and wrongly giving up would lose a customer email.

:func:`recipient_problem` is the other permanent failure, found before the
ESP is called: an order email goes to exactly one valid address.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.utils import getaddresses, parseaddr

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)
from django.core.exceptions import ValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email


@dataclass(frozen=True)
class Verdict:
    transient: bool
    reason: str
    retry_after: float | None = None  # seconds, when the ESP said so


def _retry_after(exc) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _short(exc: BaseException, limit: int = 1500) -> str:
    try:
        detail = str(exc)
    except Exception:  # noqa: BLE001 - some exceptions' __str__ fail on odd input
        detail = repr(getattr(exc, "args", ""))
    text = f"{type(exc).__name__}: {detail}".strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(exc: BaseException) -> Verdict:
    """Decide whether ``exc`` from sending one message is worth a retry."""
    if isinstance(exc, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return Verdict(False, _short(exc))
    if isinstance(exc, (AnymailConfigurationError, AnymailUnsupportedFeature)):
        return Verdict(False, _short(exc))
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        if status is None:  # no HTTP answer: connection refused, reset, timeout
            return Verdict(True, _short(exc))
        if status == 429 or status >= 500:
            return Verdict(True, f"HTTP {status}: {_short(exc)}", _retry_after(exc))
        return Verdict(False, f"HTTP {status}: {_short(exc)}")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return Verdict(False, _short(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return Verdict(400 <= exc.smtp_code < 500, _short(exc))
    return Verdict(True, _short(exc))


def recipient_problem(to) -> str | None:
    """Why the recipient list ``to`` is not exactly one valid address, or None.

    ``"Tina <tina@x.example>"`` is one address. A comma- or space-separated
    list (``"victim@example.com, attacker@evil.example"``), a group, a line
    break (header injection) or an empty string is not: the ESP would split
    a list into several recipients, while suppression and the send log know
    only one. Two parsers must agree: ``email.utils.getaddresses`` finds
    every address, Django's ``sanitize_address`` accepts one complete mailbox
    only; ``validate_email`` then checks the address itself. The text is the
    send log's (English, like the rest of the log).
    """
    to = list(to or [])
    if len(to) != 1:
        return f"{len(to)} recipients; an order email goes to exactly one address"
    value = to[0]
    if not isinstance(value, str) or not value.strip():
        return "no recipient address"
    shown = repr(value[:300])
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return f"the recipient {shown} contains a line break or another control character"
    found = [address for _name, address in getaddresses([value]) if address]
    if len(found) > 1:
        return f"the recipient {shown} holds more than one address"
    try:
        validate_email(found[0] if found else "")
        # Both parsers must read the same single mailbox out of the value.
        whole = parseaddr(sanitize_address(value, "utf-8"))[1]
        if whole.lower() != parseaddr(sanitize_address(("", found[0]), "utf-8"))[1].lower():
            raise ValueError("the parsers disagree")
    except (ValueError, IndexError, HeaderParseError, ValidationError):
        return f"the recipient {shown} is not a valid email address"
    return None
