"""Signed, expiring, PII-free customer links.

A token carries only opaque ids (an outbox row id), signed with the
project's SECRET_KEY and a per-purpose salt, and expires after
``LINK_MAX_AGE_DAYS``. Tampered or expired tokens raise
:class:`django.core.signing.BadSignature` (``SignatureExpired`` is a subclass).

**Preview links.** A staff preview or "send me a test" email may be rendered
against a real order, but its links must not act on that customer's rows.
Links built inside :func:`preview_links` name no outbox row: their payload
is only the preview marker with the email's language (``{"t": "nb"}``), and
every customer view answers such a link with the "test email, nothing was
recorded" page in that language (:func:`django_order_mail.views.preview_link`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.core import signing
from django.urls import reverse

from ..app_settings import app_settings

_SALT = "django_order_mail.links.{purpose}"
#: Payload key of a preview link; its value is the email's language.
PREVIEW = "t"

_preview_language: ContextVar[str | None] = ContextVar("django_order_mail_preview_links", default=None)


def make_token(purpose: str, payload: dict) -> str:
    return signing.dumps(payload, salt=_SALT.format(purpose=purpose), compress=True)


def read_token(purpose: str, token: str, max_age_days: float | None = None) -> dict:
    days = max_age_days if max_age_days is not None else app_settings.LINK_MAX_AGE_DAYS
    return signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=timedelta(days=days))


def preview_language() -> str | None:
    """The language of the preview links being built, None outside
    :func:`preview_links`."""
    return _preview_language.get()


@contextmanager
def preview_links(language: str) -> Iterator[None]:
    """Every email link built inside is a preview link in ``language``:
    wrap the building of a staff preview's or test email's context in it."""
    reset = _preview_language.set(str(language or ""))
    try:
        yield
    finally:
        _preview_language.reset(reset)


@dataclass(frozen=True)
class EmailLink:
    """What a customer link's token names: an outbox row, or nothing (a preview)."""

    email_id: int | None = None
    #: The email's language for a preview link; None for a customer's link.
    preview_language: str | None = None
    payload: dict = field(default_factory=dict)

    @property
    def is_preview(self) -> bool:
        return self.preview_language is not None

    @property
    def rate_key(self) -> str:
        """What a per-link rate limit counts: the email the signed payload
        names, not the token string (a token is signed anew every second,
        so every email's links would otherwise get fresh counters)."""
        return f"preview:{self.preview_language}" if self.is_preview else f"email:{self.email_id}"


def email_token(purpose: str, email_id: int, **extra) -> str:
    """The token of a link of outbox row ``email_id`` (``extra``: more signed
    payload); inside :func:`preview_links`, a preview token naming no row."""
    language = _preview_language.get()
    if language is not None:
        return make_token(purpose, {PREVIEW: language})
    return make_token(purpose, {"e": int(email_id), **extra})


def _email_link(payload) -> EmailLink:
    if isinstance(payload, dict) and isinstance(payload.get(PREVIEW), str):
        return EmailLink(preview_language=payload[PREVIEW], payload=payload)
    email_id = payload.get("e") if isinstance(payload, dict) else None
    if not isinstance(email_id, int) or isinstance(email_id, bool):
        raise signing.BadSignature("the link names no email")
    return EmailLink(email_id=email_id, payload=payload)


def read_email_token(purpose: str, token: str, max_age_days: int | None = None) -> EmailLink:
    """Raises ``BadSignature`` / ``SignatureExpired`` like :func:`read_token`."""
    return _email_link(read_token(purpose, token, max_age_days))


def read_expired_email_token(purpose: str, token: str) -> EmailLink | None:
    """What a correctly signed but expired token named (to answer in the
    email's language); None for anything else."""
    try:
        return _email_link(signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=None))
    except signing.BadSignature:
        return None


def absolute(path: str) -> str:
    return app_settings.SITE_URL.rstrip("/") + path


def feedback_url(email_id: int, score: int | None = None, scale: str | None = None) -> str:
    """The survey page of feedback email ``email_id``; with ``score``, the
    one-click rating link (``?score=`` on the 1-5 scale, ``?nps=`` on 0-10).

    The scale the email asks on is signed into the token (``"s"``): the
    survey accepts a score of that scale only. The score itself stays
    outside the signature on purpose: it is the customer's own answer to
    their own order, and one token serves the whole row.
    """
    token = email_token("feedback", email_id, **({"s": str(scale)} if scale else {}))
    path = reverse("django_order_mail:feedback", kwargs={"token": token})
    if score is not None:
        path += f"?{'nps' if scale == 'nps' else 'score'}={int(score)}"
    return absolute(path)
