"""The marketplace sync app's settings: its own section of ``ORDER_MAIL``.

Its keys and their defaults are registered with the core
(:func:`django_order_mail.conf.register_settings`) when this module is
imported, which the app config does; ``docs/marketplaces.rst`` and
``docs/settings.rst`` document each. ``app_settings`` here extends the
core's typed object, so this app's modules read every setting, the core's
and its own, through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "MarketplaceSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # Dotted path of a function update -> order (or None) that finds or
    # creates the shop's order for a marketplace order id.
    "MARKETPLACE_ORDER_RESOLVER": None,
    # Adapter name -> dotted path of a BaseAdapter subclass, over the packaged
    # {"aliexpress": ..., "generic": ...} (replace one to override its hooks).
    "MARKETPLACE_ADAPTERS": {},
}

register_settings("order_mail_marketplaces", DEFAULTS)


class MarketplaceSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/marketplaces.rst``)."""

    @property
    def MARKETPLACE_ORDER_RESOLVER(self) -> Any:
        """Dotted path of a function update -> order (or None) that finds or creates the shop's
        order for a marketplace order id."""
        return get_setting("MARKETPLACE_ORDER_RESOLVER")

    @property
    def MARKETPLACE_ADAPTERS(self) -> dict[str, str]:
        """Adapter name -> dotted path of a BaseAdapter subclass, over the packaged
        {"aliexpress": ..., "generic": ...} (replace one to override its hooks)."""
        return get_setting("MARKETPLACE_ADAPTERS")


#: The settings object of this app.
app_settings = MarketplaceSettings()
