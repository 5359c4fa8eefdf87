"""System checks of the retention settings: ``E014``, ``W006``, ``W007``.

A mistyped kind in ``RETENTION`` would silently keep that data for ever,
and a period shorter than what something else relies on would delete rows
that are still used (a customer's unsubscribe link that no longer works):
both are reported at start-up (``docs/settings.rst``).
"""

from __future__ import annotations

import math

from django.core.checks import Error, Warning

from ..app_settings import app_settings
from ..conf import known_defaults
from .registry import RetentionNeed, registered, retention_defaults, retention_needs

E014 = "django_order_mail.E014"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _core_needs() -> list[RetentionNeed]:
    """What the core itself reads from the send log."""
    needs = [
        RetentionNeed(
            "send_log",
            lambda: app_settings.LINK_MAX_AGE_DAYS,
            "the customer links, LINK_MAX_AGE_DAYS",
            "a link that has not expired would name a deleted email and show an error page",
        )
    ]

    def cap_days():
        cap = app_settings.COMMERCIAL_FREQUENCY_CAP
        hours = cap.get("hours", 24) if isinstance(cap, dict) and cap.get("max") else None
        return hours / 24 if _number(hours) else None

    needs.append(
        RetentionNeed(
            "send_log",
            cap_days,
            "the window of COMMERCIAL_FREQUENCY_CAP",
            "the cap would not see the emails sent early in its window and send more than it allows",
        )
    )
    return needs


def retention_setting_errors(raw: dict) -> list[Error | Warning]:
    """E014: ``RETENTION``, ``RETENTION_BATCH_SIZE`` or ``RETENTION_PAUSE`` malformed, or an
    unknown kind; W006: a period shorter than something needs; W007: shorter
    than a window an app keeps its rows for anyway."""
    errors: list[Error | Warning] = []
    retention = raw.get("RETENTION", {})
    if not isinstance(retention, dict):
        return [Error("ORDER_MAIL['RETENTION'] must be a dict of kind -> days (or None).", id=E014)]
    batch = raw.get("RETENTION_BATCH_SIZE", known_defaults()["RETENTION_BATCH_SIZE"])
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        errors.append(Error("ORDER_MAIL['RETENTION_BATCH_SIZE'] must be a positive integer.", id=E014))
    pause = raw.get("RETENTION_PAUSE", known_defaults()["RETENTION_PAUSE"])
    if not _number(pause) or pause < 0:
        errors.append(Error("ORDER_MAIL['RETENTION_PAUSE'] must be a number, 0 or more.", id=E014))
    defaults = retention_defaults()
    without = sorted(e.label for e in registered() if e.expire is None)
    for kind, days in retention.items():
        if kind not in defaults:
            hint = (
                f"{kind!r} has no retention: it is kept until staff remove it."
                if kind in without
                else f"Known kinds: {', '.join(sorted(defaults))}. A feature app's kind is known only "
                "when that app is in INSTALLED_APPS (docs/data-protection.rst)."
            )
            errors.append(Error(f"ORDER_MAIL['RETENTION'] names unknown kind {kind!r}.", hint=hint, id=E014))
        elif days is not None and not (_number(days) and days > 0):
            errors.append(
                Error(
                    f"ORDER_MAIL['RETENTION'][{kind!r}] must be a positive number of days or None, "
                    f"not {days!r}.",
                    hint="None keeps that kind until it is erased.",
                    id=E014,
                )
            )
    if errors:
        return errors
    periods = {**defaults, **retention}
    for need in [*_core_needs(), *retention_needs()]:
        period = periods.get(need.kind)
        if period is None:
            continue
        try:
            found = need.days()
        except Exception:  # noqa: BLE001 - a malformed setting has its own check
            continue
        if not _number(found):
            continue
        minimum = float(found)  # type: ignore[arg-type]
        if period >= minimum:
            continue
        message = (
            f"ORDER_MAIL['RETENTION'][{need.kind!r}] ({period:g} days) is shorter than {need.needed_by} "
            f"({minimum:g} days): {need.effect}."
        )
        if need.kept:
            hint = (
                f"Nothing breaks: those rows stay until then. Keep {need.kind!r} at least "
                f"{math.ceil(minimum)} days to say so in the setting, or silence this warning."
            )
            errors.append(Warning(message, hint=hint, id="django_order_mail.W007"))
        else:
            hint = (
                f"Keep {need.kind!r} at least {math.ceil(minimum)} days (or None), or shorten what needs it."
            )
            errors.append(Warning(message, hint=hint, id="django_order_mail.W006"))
    return errors
