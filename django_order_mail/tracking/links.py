"""Signed unsubscribe and preference links.

The token carries only the outbox row id (no address, no name); the view
looks the address up server-side. Unsubscribe links live longer than the
other customer links (``UNSUBSCRIBE_LINK_MAX_AGE_DAYS``): a customer must be
able to leave from an email that is months old.
"""

from __future__ import annotations

from django.urls import reverse

from ..conf import get_setting
from ..rendering.links import absolute, make_token, read_token

PURPOSE = "unsubscribe"


def unsubscribe_token(email_id: int) -> str:
    return make_token(PURPOSE, {"e": int(email_id)})


def read_unsubscribe_token(token: str) -> int:
    """The outbox row id; raises ``BadSignature`` / ``SignatureExpired``."""
    payload = read_token(PURPOSE, token, max_age_days=get_setting("UNSUBSCRIBE_LINK_MAX_AGE_DAYS"))
    return int(payload["e"])


def unsubscribe_url(email_id: int) -> str:
    """The https URL for the ``List-Unsubscribe`` header and the footer link:
    GET shows a confirmation page, POST (RFC 8058 one-click) unsubscribes."""
    path = reverse("django_order_mail:unsubscribe", kwargs={"token": unsubscribe_token(email_id)})
    return absolute(path)


def preferences_url(email_id: int) -> str:
    path = reverse("django_order_mail:email_preferences", kwargs={"token": unsubscribe_token(email_id)})
    return absolute(path)
