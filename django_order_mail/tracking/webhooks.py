"""Are the ESP's tracking webhooks authenticated? (receiver and check E601)

Anymail authenticates a webhook with HTTP basic auth (``ANYMAIL
["WEBHOOK_SECRET"]``) and, for some ESPs, with the ESP's own signature
(Mailgun's ``MAILGUN_WEBHOOK_SIGNING_KEY``, SendGrid's verification key,
...). Without either, Anymail accepts any post with only a warning, and a
forged "bounce" or "complaint" would suppress a real customer.

With ``DEBUG = False`` the receiver refuses such an unauthenticated event
(:func:`refuse_unauthenticated`): Anymail answers 400 and nothing is
recorded. With ``DEBUG = True`` (a developer's machine) it is accepted, and
the system check says so (``W601``; ``E601`` when ``DEBUG`` is False).
"""

from __future__ import annotations

import importlib
import inspect

from django.conf import settings

from ..delivery.connection import backend_path

try:
    from anymail.exceptions import AnymailWebhookValidationFailure
    from anymail.webhooks.base import AnymailCoreWebhookView
except ImportError:  # pragma: no cover - anymail is a dependency
    AnymailCoreWebhookView = None
    AnymailWebhookValidationFailure = ValueError


def basic_auth_set() -> bool:
    """``ANYMAIL["WEBHOOK_SECRET"]`` (or ``ANYMAIL_WEBHOOK_SECRET``) is set."""
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    return bool(anymail.get("WEBHOOK_SECRET") or getattr(settings, "ANYMAIL_WEBHOOK_SECRET", None))


def view_is_authenticated(view_class) -> bool:
    """True if Anymail's ``view_class`` checks every post: basic-auth
    credentials, or the ESP's signature (the view then does not warn about
    missing basic auth). Read from the view itself, the way Anymail's own
    view was set up for this request."""
    if basic_auth_set():
        return True
    try:
        view = view_class()
    except Exception:  # noqa: BLE001 - misconfigured: Anymail fails this webhook itself
        return False
    return bool(getattr(view, "basic_auth", None)) or not getattr(view, "warn_if_no_basic_auth", True)


def is_webhook_view(sender) -> bool:
    return (
        AnymailCoreWebhookView is not None
        and inspect.isclass(sender)
        and issubclass(sender, AnymailCoreWebhookView)
    )


def refuse_unauthenticated(sender, esp_name: str) -> None:
    """Raise Anymail's validation failure (HTTP 400, nothing recorded) for
    an event that came through an unauthenticated webhook while ``DEBUG`` is
    off. Events the project sends itself (another ``sender``) pass."""
    if settings.DEBUG or not is_webhook_view(sender) or view_is_authenticated(sender):
        return
    raise AnymailWebhookValidationFailure(
        f"Anymail {esp_name} webhook refused: no webhook credentials are configured "
        "(ANYMAIL['WEBHOOK_SECRET'] or the ESP's signing key) and DEBUG is False."
    )


def backend_tracking_view():
    """Anymail's tracking view of the ESP ``EMAIL_BACKEND`` sends through
    (``anymail.backends.mailgun.EmailBackend`` -> Mailgun's), or None."""
    parts = backend_path().split(".")
    if AnymailCoreWebhookView is None or len(parts) < 3 or parts[:2] != ["anymail", "backends"]:
        return None
    try:
        module = importlib.import_module(f"anymail.webhooks.{parts[2]}")
    except ImportError:
        return None
    for obj in vars(module).values():
        if (
            is_webhook_view(obj)
            and obj.__module__ == module.__name__
            and obj.__name__.endswith(("TrackingWebhookView", "CombinedWebhookView"))
        ):
            return obj
    return None


def credentials_configured() -> bool:
    """For the system check: basic auth is set, or the ESP the project sends
    through signs its webhooks and its signing key is configured."""
    if basic_auth_set():
        return True
    view = backend_tracking_view()
    return view is not None and view_is_authenticated(view)
