"""Signed unsubscribe and preference links.

The token carries only the outbox row id (no address, no name); the view
looks the address up server-side. Unsubscribe links live longer than the
other customer links (``UNSUBSCRIBE_LINK_MAX_AGE_DAYS``): a customer must be
able to leave from an email that is months old. A link built for a staff
preview or test email names no row (:func:`..rendering.links.preview_links`).
"""

from __future__ import annotations

from django.urls import reverse

from ..rendering.links import EmailLink, absolute, email_token, read_email_token
from .app_settings import app_settings

PURPOSE = "unsubscribe"


def unsubscribe_token(email_id: int) -> str:
    return email_token(PURPOSE, email_id)


def read_unsubscribe_link(token: str) -> EmailLink:
    """The outbox row (or preview) the token names; raises ``BadSignature`` /
    ``SignatureExpired``."""
    return read_email_token(PURPOSE, token, max_age_days=app_settings.UNSUBSCRIBE_LINK_MAX_AGE_DAYS)


def read_unsubscribe_token(token: str) -> int:
    """The outbox row id; raises ``BadSignature`` / ``SignatureExpired``, and
    ``ValueError`` for a preview link (it names no row)."""
    link = read_unsubscribe_link(token)
    if link.email_id is None:
        raise ValueError("a preview link names no email")
    return link.email_id


def unsubscribe_url(email_id: int) -> str:
    """The https URL for the ``List-Unsubscribe`` header and the footer link:
    GET shows a confirmation page, POST (RFC 8058 one-click) unsubscribes."""
    path = reverse("django_order_mail:unsubscribe", kwargs={"token": unsubscribe_token(email_id)})
    return absolute(path)


def preferences_url(email_id: int) -> str:
    path = reverse("django_order_mail:email_preferences", kwargs={"token": unsubscribe_token(email_id)})
    return absolute(path)
