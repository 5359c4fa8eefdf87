"""Sort delivery errors into "try again later" and "will never work".

Transient: the ESP could not be reached, timed out, answered 5xx or 429.
Permanent: the ESP refused this message (other 4xx, invalid or refused
recipient) - retrying would fail the same way, so staff must see the reason.
Unknown exceptions count as transient: the attempt limit still ends them,
and wrongly giving up would lose a customer email.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass

from anymail.exceptions import (
    AnymailAPIError,
    AnymailConfigurationError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailUnsupportedFeature,
)


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
