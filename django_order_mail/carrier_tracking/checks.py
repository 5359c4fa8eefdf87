"""System checks of the carrier-tracking app (registered by its app config).

* ``E701``: ``DEBUG`` is False and a provider of
  ``CARRIER_TRACKING_PROVIDERS`` has no secret: its webhooks are refused
  (403), so no parcel moves. ``W701``: the same with ``DEBUG = True``.
* ``E702``: ``CARRIER_TRACKING_PROVIDERS`` is not a dict of dicts, names a
  provider that is neither packaged nor given a ``class``, a ``class`` that
  cannot be imported or is no ``BaseProvider``, or a ``secret`` that is not
  a string (or a list of strings).
* ``E703``: ``CARRIER_TRACKING_STALE_DAYS`` or
  ``CARRIER_TRACKING_STALE_LOOKBACK_DAYS`` is not a positive integer, or
  ``CARRIER_TRACKING_DIGEST_EMAIL`` is not an email address.
* ``W702``: no default address for the staff digest (neither
  ``CARRIER_TRACKING_DIGEST_EMAIL`` nor ``BRANDING["support_email"]``;
  recipients set in the admin's staff notifications still get it).
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..conf import user_settings
from .events import STALE_SHIPMENTS_DIGEST
from .providers import provider_class

_ID = "django_order_mail.{}"
DOCS = "See docs/carrier-tracking.rst."


@register(Tags.compatibility)
def check_carrier_tracking(app_configs=None, **kwargs) -> list[Error | Warning]:
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already
    found: list[Error | Warning] = []
    found += provider_errors(raw.get("CARRIER_TRACKING_PROVIDERS", {}))
    for key, default in (("CARRIER_TRACKING_STALE_DAYS", 5), ("CARRIER_TRACKING_STALE_LOOKBACK_DAYS", 60)):
        value = raw.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            found.append(
                Error(f"ORDER_MAIL[{key!r}] must be a positive integer.", hint=DOCS, id=_ID.format("E703"))
            )
    address = raw.get("CARRIER_TRACKING_DIGEST_EMAIL")
    if address is not None:
        try:
            validate_email(address)
        except (ValidationError, TypeError):
            found.append(
                Error(
                    "ORDER_MAIL['CARRIER_TRACKING_DIGEST_EMAIL'] must be an email address or None.",
                    hint=DOCS,
                    id=_ID.format("E703"),
                )
            )
    branding = raw.get("BRANDING")
    branding = branding if isinstance(branding, dict) else {}
    disabled = raw.get("DISABLED_EVENTS") or []
    if not address and not branding.get("support_email") and STALE_SHIPMENTS_DIGEST not in disabled:
        found.append(
            Warning(
                "Neither ORDER_MAIL['CARRIER_TRACKING_DIGEST_EMAIL'] nor BRANDING['support_email'] is set: "
                "the stale-shipment digest is skipped unless recipients are set in the admin (Staff "
                "notifications) or the admin's Branding record has a support address.",
                hint=DOCS,
                id=_ID.format("W702"),
            )
        )
    return found


def provider_errors(providers) -> list[Error | Warning]:
    if not isinstance(providers, dict):
        return [
            Error(
                "ORDER_MAIL['CARRIER_TRACKING_PROVIDERS'] must be a dict of provider name -> settings.",
                hint=DOCS,
                id=_ID.format("E702"),
            )
        ]
    found: list[Error | Warning] = []
    for name, config in providers.items():
        where = f"ORDER_MAIL['CARRIER_TRACKING_PROVIDERS'][{name!r}]"
        if not isinstance(config, dict):
            found.append(Error(f"{where} must be a dict such as {{'secret': '...'}}.", id=_ID.format("E702")))
            continue
        try:
            cls = provider_class(name, config)
        except ImportError as exc:
            found.append(Error(f"{where}['class'] cannot be used: {exc}", hint=DOCS, id=_ID.format("E702")))
            continue
        if cls is None:
            found.append(
                Error(
                    f"{where}: no packaged provider is called {name!r} and no 'class' is given.",
                    hint="The packaged providers are 'aftership' and 'easypost'. " + DOCS,
                    id=_ID.format("E702"),
                )
            )
            continue
        secret = config.get("secret")
        secrets = secret if isinstance(secret, (list, tuple)) else [secret]
        if secret is not None and not all(isinstance(value, str) for value in secrets):
            found.append(
                Error(f"{where}['secret'] must be a string or a list of strings.", id=_ID.format("E702"))
            )
        elif not any(secrets):
            found.append(missing_secret(name, where))
    return found


def missing_secret(name: str, where: str) -> Error | Warning:
    hint = f"Set {where}['secret'] to the webhook secret the provider shows (its webhook settings). " + DOCS
    message = (
        f"The carrier-tracking provider {name!r} has no webhook secret: every webhook it sends is refused"
    )
    if settings.DEBUG:
        return Warning(message + " (403).", hint=hint, id=_ID.format("W701"))
    return Error(message + " (403), so no parcel or order moves.", hint=hint, id=_ID.format("E701"))
