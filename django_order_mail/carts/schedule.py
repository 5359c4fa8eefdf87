"""Celery beat entry of the abandoned-cart scan (``docs/abandoned-cart.rst``).

Merge it with the core's: ``app.conf.beat_schedule = {**beat_schedule(),
**cart_beat_schedule()}``. It imports nothing from Django, so a project's
``celery.py`` can call it before Django is set up.
"""

from __future__ import annotations


def beat_schedule(every: float = 300.0) -> dict:
    """The scan reads one partial index and reminders are hours apart, so
    every 5 minutes is plenty."""
    return {
        "django-order-mail-abandoned-cart-scan": {
            "task": "django_order_mail.abandoned_cart_scan",
            "schedule": every,
            "options": {"expires": max(every - 1, 1)},
        },
    }
