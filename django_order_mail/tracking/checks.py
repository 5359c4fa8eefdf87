"""Deliverability warnings at start-up (registered by the tracking app config).

* ``E601`` / ``W601``: the project routes Anymail's webhook URLs but no
  webhook credentials are configured (``ANYMAIL["WEBHOOK_SECRET"]``, or the
  signing key of the ESP ``EMAIL_BACKEND`` sends through). With ``DEBUG =
  False`` this is the error ``E601``: the receiver refuses every such
  webhook (:mod:`.webhooks`), so no bounce or delivery would be recorded.
  With ``DEBUG = True`` the webhooks accept anything anyone posts and the
  check warns (``W601``).
* ``W602``: the From domain is not aligned with the domain the ESP sends as
  (``ORDER_MAIL["SENDING_DOMAIN"]`` or Anymail's ``MAILGUN_SENDER_DOMAIN``):
  DMARC fails and Gmail/Yahoo reject or spam-folder the mail.
* ``W603``: the enabled events have no template in an enabled language:
  no translation catalogue exists for it (in the app or ``LOCALE_PATHS``),
  so its customers would get English. Missing template files are ``E008``.
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Set as AbstractSet
from email.utils import parseaddr
from pathlib import Path

from django.apps import apps
from django.conf import global_settings, settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.translation import to_locale

from ..conf import known_defaults, user_settings
from .webhooks import credentials_configured


def org_domain(domain: str) -> str:
    """The organisational domain, approximated by the last two labels (or
    three under a two-letter second level such as ``co.uk``). Good enough for
    a warning; the domain check prints what it compared."""
    labels = [label for label in domain.lower().strip(".").split(".") if label]
    if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def aligned(from_domain: str, other: str, *, strict: bool = False) -> bool:
    """DMARC identifier alignment (RFC 7489 §3.1)."""
    a, b = from_domain.lower().strip("."), other.lower().strip(".")
    return a == b if strict else org_domain(a) == org_domain(b)


def from_domain() -> str:
    raw = user_settings()
    address = raw.get("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL
    return parseaddr(address)[1].rpartition("@")[2].lower()


def sending_domain() -> str:
    raw = user_settings()
    anymail = getattr(settings, "ANYMAIL", {}) or {}
    return (raw.get("SENDING_DOMAIN") or anymail.get("MAILGUN_SENDER_DOMAIN") or "").lower()


def webhooks_mounted() -> bool:
    """True if the project routes Anymail's webhook URLs (``anymail.urls``)."""
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("anymail:postmark_tracking_webhook")
    except NoReverseMatch:
        return False
    except Exception:  # noqa: BLE001 - a broken URLconf is reported by Django's own checks
        return False
    return True


def enabled_languages() -> list[str]:
    raw = user_settings()
    if raw.get("LANGUAGES"):
        return list(raw["LANGUAGES"])
    if list(settings.LANGUAGES) != list(global_settings.LANGUAGES):
        return [code for code, _name in settings.LANGUAGES]
    return [settings.LANGUAGE_CODE]


def has_catalogue(language: str) -> bool:
    """English needs none (the templates are written in English)."""
    if language.split("-")[0].lower() == "en":
        return True
    paths = [str(Path(apps.get_app_config("django_order_mail").path) / "locale")]
    paths += [str(p) for p in getattr(settings, "LOCALE_PATHS", ())]
    locale = to_locale(language)
    return any(gettext_module.find("django", path, [locale, locale.split("_")[0]]) for path in paths)


#: Shown by ``manage.py check --deploy`` only: in development (DEBUG on) a
#: missing webhook secret is normal and must not print on every command.
DEPLOY_ONLY = {"django_order_mail.W601"}


@register(Tags.compatibility)
def check_deliverability(app_configs=None, **kwargs):
    """E601, W602-W603: webhook credentials with DEBUG off, From/ESP domain
    alignment, languages."""
    return [found for found in deliverability_warnings() if found.id not in DEPLOY_ONLY]


@register(Tags.security, deploy=True)
def check_webhook_credentials_for_deploy(app_configs=None, **kwargs):
    """W601 (``check --deploy``): the webhooks accept unauthenticated posts
    while DEBUG is on."""
    return [found for found in deliverability_warnings() if found.id in DEPLOY_ONLY]


def deliverability_warnings() -> list[Warning | Error]:
    from .. import events as events_module
    from ..events import ALL_EVENTS

    found: list[Warning | Error] = []
    if apps.is_installed("anymail") and webhooks_mounted() and not credentials_configured():
        hint = (
            "Set ANYMAIL['WEBHOOK_SECRET'] to 'random-user:random-password' and put the same "
            "credentials in the webhook URL at your ESP (docs/tracking.rst)."
        )
        if settings.DEBUG:
            found.append(
                Warning(
                    "No webhook credentials (ANYMAIL['WEBHOOK_SECRET']): the tracking webhooks accept "
                    "unauthenticated posts while DEBUG is True.",
                    hint=hint,
                    id="django_order_mail.W601",
                )
            )
        else:
            found.append(
                Error(
                    "No webhook credentials (ANYMAIL['WEBHOOK_SECRET']): with DEBUG = False every "
                    "tracking webhook is refused, so no delivery, bounce or complaint is recorded.",
                    hint=hint,
                    id="django_order_mail.E601",
                )
            )
    sender, esp_domain = from_domain(), sending_domain()
    if sender and esp_domain and not aligned(sender, esp_domain):
        found.append(
            Warning(
                f"The From domain {sender!r} is not aligned with the ESP sending domain {esp_domain!r}.",
                hint="DMARC will fail. Send from an address at the domain your ESP signs for, or set "
                "up that domain at your ESP; run manage.py order_mail_check_domain.",
                id="django_order_mail.W602",
            )
        )
    # Missing template files are E008; here: languages nothing is written in.
    disabled = set(user_settings().get("DISABLED_EVENTS", known_defaults()["DISABLED_EVENTS"]))
    staff_only: AbstractSet[str] = getattr(events_module, "INTERNAL_EVENTS", frozenset())  # alerts to staff
    events = [e for e in ALL_EVENTS if e not in disabled and e not in staff_only]
    for language in enabled_languages():
        if events and not has_catalogue(language):
            found.append(
                Warning(
                    f"No {language!r} translation of the emails: {', '.join(events)}.",
                    hint="Customers with this language would get these emails in English. Add a "
                    "translation (django-admin makemessages / compilemessages in LOCALE_PATHS), or "
                    "list only the languages your emails are written in in ORDER_MAIL['LANGUAGES'].",
                    id="django_order_mail.W603",
                )
            )
    return found
