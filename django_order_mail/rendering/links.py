"""Signed, expiring, PII-free customer links.

A token carries only opaque ids (an outbox row id), signed with the
project's SECRET_KEY and a per-purpose salt, and expires after
``LINK_MAX_AGE_DAYS``. Tampered or expired tokens raise
:class:`django.core.signing.BadSignature` (``SignatureExpired`` is a subclass).
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from ..conf import get_setting

_SALT = "django_order_mail.links.{purpose}"


def make_token(purpose: str, payload: dict) -> str:
    return signing.dumps(payload, salt=_SALT.format(purpose=purpose), compress=True)


def read_token(purpose: str, token: str, max_age_days: int | None = None) -> dict:
    days = max_age_days if max_age_days is not None else get_setting("LINK_MAX_AGE_DAYS")
    return signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=days * 86400)


def absolute(path: str) -> str:
    return get_setting("SITE_URL").rstrip("/") + path


def feedback_url(email_id: int, score: int | None = None, scale: str = "csat") -> str:
    """The survey page of feedback email ``email_id``; with ``score``, the
    one-click rating link (``?score=`` on the 1-5 scale, ``?nps=`` on 0-10).

    The score stays outside the signature on purpose: it is the customer's
    own answer to their own order, and one token serves the whole row.
    """
    token = make_token("feedback", {"e": email_id})
    path = reverse("django_order_mail:feedback", kwargs={"token": token})
    if score is not None:
        path += f"?{'nps' if scale == 'nps' else 'score'}={int(score)}"
    return absolute(path)
