"""The carrier-tracking app's settings: its own section of ``ORDER_MAIL``.

Its keys and their defaults are registered with the core
(:func:`django_order_mail.conf.register_settings`) when this module is
imported, which the app config does; ``docs/carrier-tracking.rst`` and
``docs/settings.rst`` document each. ``app_settings`` here extends the
core's typed object, so this app's modules read every setting, the core's
and its own, through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "CarrierTrackingSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Provider name -> {"secret": "..."} (a list of secrets while rotating;
    # "class": dotted path of a BaseProvider subclass for your own). Only
    # providers listed here are enabled; a webhook without a valid signature
    # is always refused (403).
    "CARRIER_TRACKING_PROVIDERS": {},
    # Staff are warned about parcels without a carrier scan for this many days.
    "CARRIER_TRACKING_STALE_DAYS": 5,
    # Only parcels shipped within this many days are checked for missing scans.
    "CARRIER_TRACKING_STALE_LOOKBACK_DAYS": 60,
    # Who gets the daily digest of such parcels (None: BRANDING["support_email"]).
    "CARRIER_TRACKING_DIGEST_EMAIL": None,
}

register_settings("order_mail_carrier_tracking", DEFAULTS)


class CarrierTrackingSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/carrier-tracking.rst``)."""

    @property
    def CARRIER_TRACKING_PROVIDERS(self) -> dict[str, dict[str, Any]]:
        """Provider name -> {"secret": ...} (and "class" for your own provider)."""
        return get_setting("CARRIER_TRACKING_PROVIDERS")

    @property
    def CARRIER_TRACKING_STALE_DAYS(self) -> int:
        """Staff are warned about parcels without a carrier scan for this many days."""
        return get_setting("CARRIER_TRACKING_STALE_DAYS")

    @property
    def CARRIER_TRACKING_STALE_LOOKBACK_DAYS(self) -> int:
        """Only parcels shipped within this many days are checked for missing scans."""
        return get_setting("CARRIER_TRACKING_STALE_LOOKBACK_DAYS")

    @property
    def CARRIER_TRACKING_DIGEST_EMAIL(self) -> str | None:
        """Who gets the daily digest of such parcels (None: BRANDING["support_email"])."""
        return get_setting("CARRIER_TRACKING_DIGEST_EMAIL")


#: The settings object of this app.
app_settings = CarrierTrackingSettings()
