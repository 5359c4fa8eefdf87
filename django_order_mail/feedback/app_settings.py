"""The feedback survey app's settings: its own section of ``ORDER_MAIL``.

Its keys and their defaults are registered with the core
(:func:`django_order_mail.conf.register_settings`) when this module is
imported, which the app config does; ``docs/feedback.rst`` and
``docs/settings.rst`` document each. ``app_settings`` here extends the
core's typed object, so this app's modules read every setting, the core's
and its own, through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "FeedbackSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Days after delivery before the feedback/review request is sent.
    "FEEDBACK_DELAY_DAYS": 7,
    # Rating row of the feedback request: "csat" (1-5) or "nps" (0-10).
    "FEEDBACK_SCALE": "csat",
    # Scores at or below these are "low": staff are alerted and the response
    # joins the admin's follow-up queue. Keys you give are merged in.
    "FEEDBACK_LOW_SCORE": {"csat": 2, "nps": 6},
    # Optional questions on the survey page (None: the packaged two, []: none).
    "FEEDBACK_QUESTIONS": None,
    # Who gets low-score alerts (None: BRANDING["support_email"]).
    "FEEDBACK_ALERT_EMAIL": None,
    # Seconds to wait before alerting, so a comment typed right after the
    # click is in the alert and a corrected mis-click alerts nobody.
    "FEEDBACK_ALERT_DELAY": 300,
    # Per-product review page of the shop (non-marketplace channels), with
    # {placeholders} from the line item, e.g. "https://shop.example/p/{sku}/review/".
    "FEEDBACK_REVIEW_URL": None,
    # Survey requests allowed per link and per client IP within "window" seconds.
    "FEEDBACK_RATE_LIMIT": {"token": 30, "ip": 300, "window": 3600},
}

register_settings("order_mail_feedback", DEFAULTS)


class FeedbackSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/feedback.rst``)."""

    @property
    def FEEDBACK_DELAY_DAYS(self) -> int:
        """Days after delivery before the feedback/review request is sent."""
        return get_setting("FEEDBACK_DELAY_DAYS")

    @property
    def FEEDBACK_SCALE(self) -> str:
        """Rating row of the feedback request: "csat" (1-5) or "nps" (0-10)."""
        return get_setting("FEEDBACK_SCALE")

    @property
    def FEEDBACK_LOW_SCORE(self) -> dict[str, int]:
        """Scores at or below these are "low": staff are alerted and the response joins the
        admin's follow-up queue. Keys you give are merged in."""
        return get_setting("FEEDBACK_LOW_SCORE")

    @property
    def FEEDBACK_QUESTIONS(self) -> list[dict[str, Any]] | None:
        """Optional questions on the survey page (None: the packaged two, []: none)."""
        return get_setting("FEEDBACK_QUESTIONS")

    @property
    def FEEDBACK_ALERT_EMAIL(self) -> str | None:
        """Who gets low-score alerts (None: BRANDING["support_email"])."""
        return get_setting("FEEDBACK_ALERT_EMAIL")

    @property
    def FEEDBACK_ALERT_DELAY(self) -> int:
        """Seconds to wait before alerting, so a comment typed right after the click is in the
        alert and a corrected mis-click alerts nobody."""
        return get_setting("FEEDBACK_ALERT_DELAY")

    @property
    def FEEDBACK_REVIEW_URL(self) -> str | None:
        """Per-product review page of the shop (non-marketplace channels), with {placeholders}
        from the line item, e.g. "https://shop.example/p/{sku}/review/"."""
        return get_setting("FEEDBACK_REVIEW_URL")

    @property
    def FEEDBACK_RATE_LIMIT(self) -> dict[str, int | None]:
        """Survey requests allowed per link and per client IP within "window" seconds."""
        return get_setting("FEEDBACK_RATE_LIMIT")


#: The settings object of this app.
app_settings = FeedbackSettings()
