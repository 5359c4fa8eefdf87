"""System checks of the recommendations app: ids ``E901``-``E904``
(``docs/recommendations.rst`` lists them)."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from ..conf import user_settings
from ..events import ALL_EVENTS, INTERNAL_EVENTS
from ..rendering.promotional import safe_url
from .app_settings import DEFAULTS

_ID = "django_order_mail.{}"
HINT = "See docs/recommendations.rst."


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@register(Tags.compatibility)
def check_recommendation_settings(app_configs=None, **kwargs) -> list[CheckMessage]:
    raw = user_settings()
    if not isinstance(raw, dict):
        return []  # E001 already
    errors: list[CheckMessage] = []
    path = raw.get("RECOMMENDATIONS_PROVIDER", DEFAULTS["RECOMMENDATIONS_PROVIDER"])
    if path is not None:
        try:
            provider = import_string(str(path))
        except ImportError:
            provider = None
        if not isinstance(path, str) or not callable(provider):
            errors.append(
                Error(
                    f"ORDER_MAIL['RECOMMENDATIONS_PROVIDER'] {path!r} is not the dotted path of a callable.",
                    hint=HINT,
                    id=_ID.format("E901"),
                )
            )
    for key in ("RECOMMENDATIONS_EVENTS", "RECOMMENDATIONS_REFERRAL_EVENTS"):
        events = raw.get(key, DEFAULTS[key])
        bad = (
            [events]
            if not isinstance(events, (list, tuple))
            else [e for e in events if e not in ALL_EVENTS or e in INTERNAL_EVENTS]
        )
        if bad:
            errors.append(
                Error(
                    f"ORDER_MAIL[{key!r}] must list customer emails; {bad[0]!r} is none.",
                    hint="Name registered events that go to the customer (docs/events.rst).",
                    id=_ID.format("E902"),
                )
            )
    for key in (
        "RECOMMENDATIONS_MAX_PRODUCTS",
        "RECOMMENDATIONS_MIN_ORDERS",
        "RECOMMENDATIONS_LOOKBACK_DAYS",
    ):
        value = raw.get(key, DEFAULTS[key])
        if not _int(value) or value < (0 if key == "RECOMMENDATIONS_MAX_PRODUCTS" else 1):
            wants = (
                "a non-negative integer" if key == "RECOMMENDATIONS_MAX_PRODUCTS" else "a positive integer"
            )
            errors.append(Error(f"ORDER_MAIL[{key!r}] must be {wants}.", hint=HINT, id=_ID.format("E903")))
    url = raw.get("RECOMMENDATIONS_REFERRAL_URL", DEFAULTS["RECOMMENDATIONS_REFERRAL_URL"])
    if url is not None and not safe_url(url):
        errors.append(
            Error(
                "ORDER_MAIL['RECOMMENDATIONS_REFERRAL_URL'] must be None or an absolute http(s) URL.",
                hint=HINT,
                id=_ID.format("E904"),
            )
        )
    return errors
