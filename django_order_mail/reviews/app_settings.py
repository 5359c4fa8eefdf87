"""The product-review app's settings: its own section of ``ORDER_MAIL``.

Registered with the core (:func:`django_order_mail.conf.register_settings`)
when the app config imports this module; ``docs/reviews.rst`` and
``docs/settings.rst`` document each key. ``app_settings`` extends the
core's typed object, so this app reads every setting through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "ReviewsSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Products listed with star links in one feedback request (the first N).
    "REVIEWS_MAX_PRODUCTS": 10,
    # Photos a customer may add to one review (0: none).
    "REVIEWS_MAX_PHOTOS": 3,
    # Largest photo accepted, in bytes, before it is re-encoded.
    "REVIEWS_PHOTO_MAX_BYTES": 5 * 1024 * 1024,
    # Days after the feedback request before the one reminder (None: no reminder).
    "REVIEWS_REMINDER_DELAY_DAYS": 7,
    # "Not received yet": days until the request is sent again.
    "REVIEWS_NOT_RECEIVED_DELAY_DAYS": 7,
    # Who hears that an order has not arrived (None: BRANDING["support_email"]).
    "REVIEWS_ALERT_EMAIL": None,
    # Approved reviews per page on product pages and in the JSON view.
    "REVIEWS_PER_PAGE": 10,
    # Review-page requests allowed per link and per client IP within "window" seconds.
    "REVIEWS_RATE_LIMIT": {"token": 30, "ip": 300, "window": 3600},
}

register_settings("order_mail_reviews", DEFAULTS)


class ReviewsSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/reviews.rst``)."""

    @property
    def REVIEWS_MAX_PRODUCTS(self) -> int:
        """Products listed with star links in one feedback request (the first N)."""
        return get_setting("REVIEWS_MAX_PRODUCTS")

    @property
    def REVIEWS_MAX_PHOTOS(self) -> int:
        """Photos a customer may add to one review (0: none)."""
        return get_setting("REVIEWS_MAX_PHOTOS")

    @property
    def REVIEWS_PHOTO_MAX_BYTES(self) -> int:
        """Largest photo accepted, in bytes, before it is re-encoded."""
        return get_setting("REVIEWS_PHOTO_MAX_BYTES")

    @property
    def REVIEWS_REMINDER_DELAY_DAYS(self) -> int | None:
        """Days after the feedback request before the one reminder (None: no reminder)."""
        return get_setting("REVIEWS_REMINDER_DELAY_DAYS")

    @property
    def REVIEWS_NOT_RECEIVED_DELAY_DAYS(self) -> int:
        """ "Not received yet": days until the request is sent again."""
        return get_setting("REVIEWS_NOT_RECEIVED_DELAY_DAYS")

    @property
    def REVIEWS_ALERT_EMAIL(self) -> str | None:
        """Who hears that an order has not arrived (None: BRANDING["support_email"])."""
        return get_setting("REVIEWS_ALERT_EMAIL")

    @property
    def REVIEWS_PER_PAGE(self) -> int:
        """Approved reviews per page on product pages and in the JSON view."""
        return get_setting("REVIEWS_PER_PAGE")

    @property
    def REVIEWS_RATE_LIMIT(self) -> dict[str, int | None]:
        """Review-page requests allowed per link and per client IP within "window" seconds."""
        return get_setting("REVIEWS_RATE_LIMIT")


#: The settings object of this app.
app_settings = ReviewsSettings()
