"""The signed cart-restore link and the session marker it leaves.

The token carries only the reminder's outbox row id — no address, no cart
contents — signed with SECRET_KEY and its own salt, and expires after
``ABANDONED_CART_LINK_MAX_AGE_DAYS``. The row leads to the cart, the step
and any coupon on the server. A link built for a staff preview or test
email names no row (:func:`..rendering.links.preview_links`).
"""

from __future__ import annotations

from django.urls import reverse

from ..rendering.links import EmailLink, absolute, email_token, make_token, read_email_token, read_token
from .app_settings import app_settings

PURPOSE = "cart_restore"
#: The session marker of a restore-link visit, read when the order is placed.
SESSION_PURPOSE = "cart_restore_session"
SESSION_KEY = "django_order_mail.cart_restore"


def restore_token(email_id: int) -> str:
    return email_token(PURPOSE, email_id)


def read_restore_link(token: str) -> EmailLink:
    """The reminder row (or preview) the token names; raises ``BadSignature``
    / ``SignatureExpired``."""
    return read_email_token(PURPOSE, token, max_age_days=app_settings.ABANDONED_CART_LINK_MAX_AGE_DAYS)


def read_restore_token(token: str) -> int:
    """The reminder row id; raises ``BadSignature`` / ``SignatureExpired``,
    and ``ValueError`` for a preview link (it names no row)."""
    link = read_restore_link(token)
    if link.email_id is None:
        raise ValueError("a preview link names no email")
    return link.email_id


def restore_url(email_id: int) -> str:
    path = reverse("django_order_mail:cart_restore", kwargs={"token": restore_token(email_id)})
    return absolute(path)


def mark_session(request, email_id: int) -> None:
    """Remember in the visitor's session that reminder ``email_id`` brought
    them back (signed: a session backend that stores data in a cookie must
    not let the visitor forge an attribution)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_KEY] = make_token(SESSION_PURPOSE, {"e": int(email_id)})


def session_reminder_id(request) -> int | None:
    """The reminder row id of a restore-link visit in this session, if it is
    recent enough to count (``ABANDONED_CART_ATTRIBUTION_HOURS``)."""
    session = getattr(request, "session", None) if request is not None else None
    token = session.get(SESSION_KEY) if session is not None else None
    if not token:
        return None
    hours = app_settings.ABANDONED_CART_ATTRIBUTION_HOURS
    try:
        return int(read_token(SESSION_PURPOSE, token, max_age_days=hours / 24)["e"])
    except Exception:  # noqa: BLE001 - expired, tampered or garbage: no attribution
        return None


def clear_session(request) -> None:
    session = getattr(request, "session", None) if request is not None else None
    if session is not None:
        session.pop(SESSION_KEY, None)
