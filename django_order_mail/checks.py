"""System checks for ``ORDER_MAIL`` and the surrounding settings.

Mistakes here would otherwise show up as emails that never arrive, so they
are reported at start-up (``manage.py check``) with a hint to fix them.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from .conf import known_defaults, user_settings
from .events import ALL_EVENTS, DEFAULT_CHANNELS

_INT_KEYS = (
    "MAX_ATTEMPTS",
    "RETRY_BACKOFF_BASE",
    "RETRY_BACKOFF_MAX",
    "REQUEUE_AFTER",
    "SENDING_TIMEOUT",
    "SWEEP_BATCH_SIZE",
    "DELIVERY_BATCH_SIZE",
    "DELIVERY_CONCURRENCY",
    "LINK_MAX_AGE_DAYS",
)


def _err(msg, hint, n):
    return Error(msg, hint=hint, id=f"django_order_mail.E{n:03d}")


@register(Tags.compatibility)
def check_settings(app_configs=None, **kwargs):
    errors = []
    raw = user_settings()
    if not isinstance(raw, dict):
        return [_err("ORDER_MAIL must be a dict.", "See docs/settings.rst.", 1)]
    known = known_defaults()
    for key in raw:
        if key not in known:
            errors.append(
                _err(
                    f"Unknown ORDER_MAIL setting {key!r}.",
                    "If it belongs to one of the package's feature apps (docs/settings.rst), add that app "
                    f"to INSTALLED_APPS. Known settings: {', '.join(sorted(known))}.",
                    2,
                )
            )
    for key in _INT_KEYS:
        value = raw.get(key, known[key])
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(_err(f"ORDER_MAIL[{key!r}] must be a non-negative integer.", None, 3))
    keep_claiming = raw.get("DELIVERY_KEEP_CLAIMING", known["DELIVERY_KEEP_CLAIMING"])
    if not isinstance(keep_claiming, (int, float)) or isinstance(keep_claiming, bool) or keep_claiming < 0:
        errors.append(
            _err("ORDER_MAIL['DELIVERY_KEEP_CLAIMING'] must be a non-negative number of seconds.", None, 3)
        )
    backoff_max = raw.get("RETRY_BACKOFF_MAX", 0)
    for key in ("MAX_ATTEMPTS", "DELIVERY_BATCH_SIZE", "DELIVERY_CONCURRENCY"):
        if raw.get(key, 1) == 0:
            errors.append(_err(f"ORDER_MAIL[{key!r}] must be at least 1.", None, 3))
    if isinstance(backoff_max, int) and backoff_max > 3300:
        errors.append(
            Warning(
                "ORDER_MAIL['RETRY_BACKOFF_MAX'] is close to or above Redis' default "
                "visibility timeout (3600 s).",
                hint="Delayed messages may be redelivered early; keep it under 3300 s.",
                id="django_order_mail.W001",
            )
        )
    for event in raw.get("DISABLED_EVENTS", []):
        if event not in ALL_EVENTS:
            errors.append(_err(f"ORDER_MAIL['DISABLED_EVENTS'] names unknown event {event!r}.", None, 4))
    channels = raw.get("CHANNELS", {})
    if not isinstance(channels, dict):
        errors.append(_err("ORDER_MAIL['CHANNELS'] must be a dict of channel -> rules.", None, 5))
        channels = {}
    for name, rules in channels.items():
        if not isinstance(rules, dict):
            errors.append(_err(f"ORDER_MAIL['CHANNELS'][{name!r}] must be a dict of rules.", None, 5))
            continue
        for event in rules.get("events", []) or []:
            if event not in ALL_EVENTS:
                errors.append(
                    _err(f"ORDER_MAIL['CHANNELS'][{name!r}] names unknown event {event!r}.", None, 4)
                )
    default_channel = raw.get("DEFAULT_CHANNEL", known["DEFAULT_CHANNEL"])
    if default_channel not in {**DEFAULT_CHANNELS, **channels}:
        errors.append(
            Warning(
                f"ORDER_MAIL['DEFAULT_CHANNEL'] {default_channel!r} has no rules; every event is sent.",
                id="django_order_mail.W002",
            )
        )
    for name, carrier in (raw.get("CARRIERS") or {}).items():
        if "{tracking_number}" not in str((carrier or {}).get("url", "")):
            errors.append(
                _err(
                    f"ORDER_MAIL['CARRIERS'][{name!r}]['url'] has no {{tracking_number}} placeholder.",
                    "Example: 'https://carrier.example/track/{tracking_number}'.",
                    6,
                )
            )
    site = raw.get("SITE_URL", known["SITE_URL"])
    if not str(site).startswith(("http://", "https://")):
        errors.append(_err("ORDER_MAIL['SITE_URL'] must be an absolute http(s) URL.", None, 7))
    if not raw.get("FROM_EMAIL") and settings.DEFAULT_FROM_EMAIL == "webmaster@localhost":
        errors.append(
            Warning(
                "Order emails would be sent from webmaster@localhost.",
                hint="Set ORDER_MAIL['FROM_EMAIL'] or DEFAULT_FROM_EMAIL.",
                id="django_order_mail.W003",
            )
        )
    from .rendering.i18n import language_setting_errors  # E010

    errors += language_setting_errors(raw)
    from .lifecycle.reasons import reason_setting_errors  # E011, W004

    errors += reason_setting_errors(raw)
    from .delivery.frequency import cap_setting_errors  # E406

    errors += cap_setting_errors(raw)
    from .streams import stream_setting_errors  # E013

    errors += stream_setting_errors(raw)
    from .delivery.batch import batch_setting_warnings  # W005

    errors += batch_setting_warnings(raw)
    from .rendering.promotional import promotional_setting_errors  # E030

    errors += promotional_setting_errors(raw)
    from .rendering.logo import logo_setting_warnings  # W030

    errors += logo_setting_warnings(raw)
    from .data.checks import retention_setting_errors  # E014, W006, W007

    errors += retention_setting_errors(raw)
    return errors


@register(Tags.templates)
def check_templates(app_configs=None, **kwargs):
    """Every enabled event needs a template (packaged or the project's own)."""
    errors = []
    disabled = set(user_settings().get("DISABLED_EVENTS", []))
    for event in sorted(set(ALL_EVENTS) - disabled):
        try:
            get_template(f"django_order_mail/email/{event}.email")
        except TemplateDoesNotExist:
            errors.append(
                _err(
                    f"No template for the {event!r} email.",
                    f"Add django_order_mail/email/{event}.email or disable the event.",
                    8,
                )
            )
    return errors


@register(Tags.database)
def check_search_indexes(app_configs=None, databases=None, **kwargs):
    from .outbox.search import check_search_indexes as check  # W020

    return check(databases)


@register()
def check_installed(app_configs=None, **kwargs):
    if not apps.is_installed("django.contrib.contenttypes"):
        return [_err("django_order_mail needs django.contrib.contenttypes in INSTALLED_APPS.", None, 9)]
    return []
