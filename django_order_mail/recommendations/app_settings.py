"""The recommendations app's settings: its own section of ``ORDER_MAIL``.

Registered with the core (:func:`django_order_mail.conf.register_settings`)
when the app config imports this module; ``docs/recommendations.rst`` and
``docs/settings.rst`` document each key. ``app_settings`` extends the core's
typed object, so this app reads every setting through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["BOUGHT_TOGETHER", "DEFAULTS", "RecommendationsSettings", "app_settings"]

#: The packaged provider a shop switches on: other products bought with these.
BOUGHT_TOGETHER = "django_order_mail.recommendations.bought_together.recommend"

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Dotted path of callable(order, event, *, language, limit, **kwargs) -> list of
    # {"name", "url", "image_url", "price", "currency"}; None: no product block unless
    # the order has get_mail_recommendations(). The packaged default: BOUGHT_TOGETHER.
    "RECOMMENDATIONS_PROVIDER": None,
    # The emails that get the product block.
    "RECOMMENDATIONS_EVENTS": ["order_confirmation", "shipping_confirmation", "delivered"],
    # Products in one block (the sender may show fewer, PROMOTIONAL_SHARE_MAX).
    "RECOMMENDATIONS_MAX_PRODUCTS": 3,
    # Bought together: a pair of products must have been bought together in at
    # least this many orders before one is recommended with the other.
    "RECOMMENDATIONS_MIN_ORDERS": 2,
    # Bought together: only products ordered within this many days.
    "RECOMMENDATIONS_LOOKBACK_DAYS": 365,
    # Absolute http(s) URL of the shop's referral page (None: no referral
    # block unless the order has get_mail_referral()).
    "RECOMMENDATIONS_REFERRAL_URL": None,
    # The emails that get the referral block.
    "RECOMMENDATIONS_REFERRAL_EVENTS": ["shipping_confirmation"],
}

register_settings("order_mail_recommendations", DEFAULTS)


class RecommendationsSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/recommendations.rst``)."""

    @property
    def RECOMMENDATIONS_PROVIDER(self) -> str | None:
        """Dotted path of ``callable(order, event, *, language, limit, **kwargs)`` returning the
        products to recommend; None: no product block unless the order has
        ``get_mail_recommendations()``."""
        return get_setting("RECOMMENDATIONS_PROVIDER")

    @property
    def RECOMMENDATIONS_EVENTS(self) -> list[str]:
        """The emails that get the product block."""
        return get_setting("RECOMMENDATIONS_EVENTS")

    @property
    def RECOMMENDATIONS_MAX_PRODUCTS(self) -> int:
        """Products in one block (the sender may show fewer to keep PROMOTIONAL_SHARE_MAX)."""
        return get_setting("RECOMMENDATIONS_MAX_PRODUCTS")

    @property
    def RECOMMENDATIONS_MIN_ORDERS(self) -> int:
        """Bought together: orders a pair must appear in before one is recommended with the other."""
        return get_setting("RECOMMENDATIONS_MIN_ORDERS")

    @property
    def RECOMMENDATIONS_LOOKBACK_DAYS(self) -> int:
        """Bought together: only products ordered within this many days."""
        return get_setting("RECOMMENDATIONS_LOOKBACK_DAYS")

    @property
    def RECOMMENDATIONS_REFERRAL_URL(self) -> str | None:
        """Absolute http(s) URL of the shop's referral page (None: no referral block unless the
        order has ``get_mail_referral()``)."""
        return get_setting("RECOMMENDATIONS_REFERRAL_URL")

    @property
    def RECOMMENDATIONS_REFERRAL_EVENTS(self) -> list[str]:
        """The emails that get the referral block."""
        return get_setting("RECOMMENDATIONS_REFERRAL_EVENTS")


#: The settings object of this app.
app_settings = RecommendationsSettings()
