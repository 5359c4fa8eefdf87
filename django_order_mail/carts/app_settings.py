"""The abandoned-cart app's settings: its own section of ``ORDER_MAIL``.

Its keys and their defaults are registered with the core
(:func:`django_order_mail.conf.register_settings`) when this module is
imported, which the app config does; ``docs/abandoned-cart.rst`` and
``docs/settings.rst`` document each. ``app_settings`` here extends the
core's typed object, so this app's modules read every setting, the core's
and its own, through one object.
"""

# ruff: noqa: N802

from __future__ import annotations

from typing import Any

from ..app_settings import OrderMailSettings
from ..conf import get_setting, register_settings

__all__ = ["DEFAULTS", "CartSettings", "app_settings"]

#: Defaults of the keys this app adds to ``ORDER_MAIL``.
DEFAULTS: dict[str, Any] = {
    # The sequence: hours of cart inactivity before each reminder, e.g.
    # [1, 24, 72] or [{"after_hours": 1}, {"after_hours": 24}, {"after_hours": 72}].
    "ABANDONED_CART_STEPS": [{"after_hours": 12}],
    # A cart idle longer than this when first found gets no reminder at all.
    "ABANDONED_CART_MAX_IDLE_HOURS": 168,
    # Carts one scan transaction handles (SKIP LOCKED splits them between scans).
    "ABANDONED_CART_BATCH_SIZE": 500,
    # Cart-restore links in reminders expire after this.
    "ABANDONED_CART_LINK_MAX_AGE_DAYS": 30,
    # Cart-restore requests allowed per link and per client IP within "window"
    # seconds (None switches a limit off); keys you give are merged in.
    "ABANDONED_CART_RATE_LIMIT": {"token": 30, "ip": 300, "window": 3600},
    # An order within this many hours after a reminder (or after a restore
    # link was opened) counts as recovered by that reminder.
    "ABANDONED_CART_ATTRIBUTION_HOURS": 72,
    # Items with this many units left or fewer show "only N left" (None: never).
    "ABANDONED_CART_LOW_STOCK_THRESHOLD": 5,
    # Dotted path of a callable(cart, *, step, recipient) -> code, dict or None
    # that issues a unique single-use coupon (None: reminders carry no coupon).
    "ABANDONED_CART_COUPON_ISSUER": None,
    # Who may get a coupon; keys you give are merged over these defaults.
    "ABANDONED_CART_COUPON_POLICY": {"from_step": 1, "first_recovery_only": True, "once_per_days": 90},
}

register_settings("order_mail_carts", DEFAULTS)


class CartSettings(OrderMailSettings):
    """The core's settings and this app's keys, typed (``docs/abandoned-cart.rst``)."""

    @property
    def ABANDONED_CART_STEPS(self) -> list[Any]:
        """The sequence: hours of cart inactivity before each reminder, e.g. [1, 24, 72] or
        [{"after_hours": 1}, {"after_hours": 24}, {"after_hours": 72}]."""
        return get_setting("ABANDONED_CART_STEPS")

    @property
    def ABANDONED_CART_MAX_IDLE_HOURS(self) -> float:
        """A cart idle longer than this when first found gets no reminder at all."""
        return get_setting("ABANDONED_CART_MAX_IDLE_HOURS")

    @property
    def ABANDONED_CART_BATCH_SIZE(self) -> int:
        """Carts one scan transaction handles (SKIP LOCKED splits them between scans)."""
        return get_setting("ABANDONED_CART_BATCH_SIZE")

    @property
    def ABANDONED_CART_LINK_MAX_AGE_DAYS(self) -> int:
        """Cart-restore links in reminders expire after this."""
        return get_setting("ABANDONED_CART_LINK_MAX_AGE_DAYS")

    @property
    def ABANDONED_CART_RATE_LIMIT(self) -> dict[str, int | None]:
        """Cart-restore requests allowed per link and per client IP within "window" seconds (None
        switches a limit off); keys you give are merged in."""
        return get_setting("ABANDONED_CART_RATE_LIMIT")

    @property
    def ABANDONED_CART_ATTRIBUTION_HOURS(self) -> float:
        """An order within this many hours after a reminder (or after a restore link was opened)
        counts as recovered by that reminder."""
        return get_setting("ABANDONED_CART_ATTRIBUTION_HOURS")

    @property
    def ABANDONED_CART_LOW_STOCK_THRESHOLD(self) -> int | None:
        """Items with this many units left or fewer show "only N left" (None: never)."""
        return get_setting("ABANDONED_CART_LOW_STOCK_THRESHOLD")

    @property
    def ABANDONED_CART_COUPON_ISSUER(self) -> Any:
        """Dotted path of a ``callable(cart, *, step, recipient)`` returning a code, a dict
        or None that issues a unique single-use coupon (None: reminders carry no coupon)."""
        return get_setting("ABANDONED_CART_COUPON_ISSUER")

    @property
    def ABANDONED_CART_COUPON_POLICY(self) -> dict[str, Any]:
        """Who may get a coupon; keys you give are merged over these defaults."""
        return get_setting("ABANDONED_CART_COUPON_POLICY")


#: The settings object of this app.
app_settings = CartSettings()
