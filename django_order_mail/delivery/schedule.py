"""Celery beat entries for the sweep; merge into your ``beat_schedule``."""

from __future__ import annotations


def beat_schedule(every: float = 30.0, cart_scan_every: float = 300.0) -> dict:
    """``app.conf.beat_schedule = {**beat_schedule(), ...}``.

    The sweep is cheap (partial indexes on the active rows) and short runs
    keep scheduled emails on time, so every 30 s is a good default. The
    abandoned-cart scan (docs/abandoned-cart.rst) reads one partial index;
    reminders are hours apart, so every 5 minutes is plenty.
    """
    return {
        "django-order-mail-sweep": {
            "task": "django_order_mail.sweep",
            "schedule": every,
            "options": {"expires": max(every - 1, 1)},
        },
        "django-order-mail-abandoned-cart-scan": {
            "task": "django_order_mail.abandoned_cart_scan",
            "schedule": cart_scan_every,
            "options": {"expires": max(cart_scan_every - 1, 1)},
        },
    }
