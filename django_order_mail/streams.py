"""Mail streams: commercial mail apart from transactional mail.

ESPs ask shops to send marketing-like mail (abandoned-cart reminders,
review requests: the commercial events) through a separate stream, IP pool
or sending domain, so its complaints never hurt the deliverability of order
confirmations. ``ORDER_MAIL["MAIL_STREAMS"]`` (``docs/settings.rst``) says,
per stream, which Django 6.1 ``MAILERS`` alias sends it (``"mailer"``) and
what ESP-specific options Anymail adds to its messages (``"esp_extra"``,
e.g. Postmark's ``{"MessageStream": "broadcast"}``), on any Django version.
"""

from __future__ import annotations

from typing import Any

from .app_settings import app_settings
from .events import COMMERCIAL_EVENTS

TRANSACTIONAL, COMMERCIAL = "transactional", "commercial"
STREAMS = (TRANSACTIONAL, COMMERCIAL)
STREAM_KEYS = {"mailer", "esp_extra"}


def stream_of(event: str) -> str:
    """The stream of ``event``: commercial events go in the commercial one."""
    return COMMERCIAL if event in COMMERCIAL_EVENTS else TRANSACTIONAL


def stream_settings(event: str) -> dict[str, Any]:
    return (app_settings.MAIL_STREAMS or {}).get(stream_of(event)) or {}


def mailer_for(event: str) -> str | None:
    """The ``MAILERS`` alias that sends ``event`` (None: the default mailer)."""
    return stream_settings(event).get("mailer") or None


def esp_extra_for(event: str) -> dict[str, Any]:
    """Anymail's ``esp_extra`` for ``event``'s messages (may be empty)."""
    return dict(stream_settings(event).get("esp_extra") or {})


def stream_setting_errors(raw: dict) -> list:
    """E013: ``MAIL_STREAMS`` as the project wrote it."""
    from django.conf import settings
    from django.core import mail
    from django.core.checks import Error

    streams = raw.get("MAIL_STREAMS", {})
    if not streams:
        return []

    def error(message: str, hint: str | None = None) -> Error:
        return Error(message, hint=hint, id="django_order_mail.E013")

    if not isinstance(streams, dict):
        return [error("ORDER_MAIL['MAIL_STREAMS'] must be a dict of stream -> options.")]
    errors = []
    for name, options in streams.items():
        where = f"ORDER_MAIL['MAIL_STREAMS'][{name!r}]"
        if name not in STREAMS:
            errors.append(error(f"{where}: unknown stream.", f"Streams: {', '.join(STREAMS)}."))
            continue
        if not isinstance(options, dict) or set(options) - STREAM_KEYS:
            errors.append(error(f"{where} must be a dict with 'mailer' and/or 'esp_extra'."))
            continue
        if not isinstance(options.get("esp_extra", {}), dict):
            errors.append(error(f"{where}['esp_extra'] must be a dict (Anymail's esp_extra)."))
        mailer = options.get("mailer")
        if mailer is None:
            continue
        if not hasattr(mail, "mailers"):
            errors.append(
                error(
                    f"{where}['mailer'] needs Django 6.1 (the MAILERS setting).",
                    "Before 6.1, separate the stream with 'esp_extra' (docs/settings.rst).",
                )
            )
        elif mailer not in getattr(settings, "MAILERS", {}):
            errors.append(error(f"{where}['mailer'] names {mailer!r}, which is not in settings.MAILERS."))
    return errors
