"""Celery beat entries for the sweep; merge into your ``beat_schedule``."""

from __future__ import annotations


def beat_schedule(every: float = 30.0) -> dict:
    """``app.conf.beat_schedule = {**beat_schedule(), ...}``.

    The sweep is cheap (partial indexes on the active rows) and short runs
    keep scheduled emails on time, so every 30 s is a good default.
    """
    return {
        "django-order-mail-sweep": {
            "task": "django_order_mail.sweep",
            "schedule": every,
            "options": {"expires": max(every - 1, 1)},
        }
    }
