"""The tracking and deliverability app's settings: its own section of ``ORDER_MAIL``.

Its keys and their defaults are registered with the core
(:func:`django_order_mail.conf.register_settings`) when this module is
imported, which the app config does; ``docs/tracking.rst`` and
``docs/settings.rst`` document each. ``app_settings`` here extends the
core's typed object, so this app's modules read every setting, the core's
and its own, through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "TrackingSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Unsubscribe links must keep working long after the email was sent.
    "UNSUBSCRIBE_LINK_MAX_AGE_DAYS": 730,
    # Domain the ESP sends and DKIM-signs as (None: the From address's
    # domain). Checked against FROM_EMAIL for DMARC alignment.
    "SENDING_DOMAIN": None,
    # DKIM selectors order_mail_check_domain looks up, e.g. ["pm"] (Postmark)
    # or ["s1", "s2"] (SendGrid); your ESP's DNS settings page shows them.
    "DKIM_SELECTORS": [],
    # Analytics warn above these rates (Gmail/Yahoo: spam rate below 0.1 %).
    "COMPLAINT_RATE_WARNING": 0.001,
    "BOUNCE_RATE_WARNING": 0.02,
    # Weeks the analytics page shows by default.
    "ANALYTICS_WEEKS": 12,
    # An order placed within this many days after a click in an email is
    # credited to that email (the last click wins).
    "ATTRIBUTION_DAYS": 5,
    # The events whose outbox row marks an order as placed (docs/tracking.rst).
    "ATTRIBUTION_PLACED_EVENTS": ["order_confirmation"],
}

register_settings("order_mail_tracking", DEFAULTS)


class TrackingSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/tracking.rst``)."""

    @property
    def UNSUBSCRIBE_LINK_MAX_AGE_DAYS(self) -> int:
        """Unsubscribe links must keep working long after the email was sent."""
        return get_setting("UNSUBSCRIBE_LINK_MAX_AGE_DAYS")

    @property
    def SENDING_DOMAIN(self) -> str | None:
        """Domain the ESP sends and DKIM-signs as (None: the From address's domain). Checked
        against FROM_EMAIL for DMARC alignment."""
        return get_setting("SENDING_DOMAIN")

    @property
    def DKIM_SELECTORS(self) -> list[str]:
        """DKIM selectors order_mail_check_domain looks up, e.g. ["pm"] (Postmark) or ["s1",
        "s2"] (SendGrid); your ESP's DNS settings page shows them."""
        return get_setting("DKIM_SELECTORS")

    @property
    def COMPLAINT_RATE_WARNING(self) -> float:
        """Analytics warn above these rates (Gmail/Yahoo: spam rate below 0.1 %)."""
        return get_setting("COMPLAINT_RATE_WARNING")

    @property
    def BOUNCE_RATE_WARNING(self) -> float:
        """Bounce rate warning."""
        return get_setting("BOUNCE_RATE_WARNING")

    @property
    def ANALYTICS_WEEKS(self) -> int:
        """Weeks the analytics page shows by default."""
        return get_setting("ANALYTICS_WEEKS")

    @property
    def ATTRIBUTION_DAYS(self) -> int:
        """An order placed within this many days after a click in an email is credited to that
        email (the last click wins)."""
        return get_setting("ATTRIBUTION_DAYS")

    @property
    def ATTRIBUTION_PLACED_EVENTS(self) -> list[str]:
        """The events whose outbox row marks an order as placed."""
        return get_setting("ATTRIBUTION_PLACED_EVENTS")


#: The settings object of this app.
app_settings = TrackingSettings()
