"""Celery beat entry of the stale-shipment digest (``docs/carrier-tracking.rst``).

Merge it with the core's: ``app.conf.beat_schedule = {**beat_schedule(),
**carrier_tracking_beat_schedule()}``. It imports nothing from Django, so a
project's ``celery.py`` can call it before Django is set up.
"""

from __future__ import annotations

from celery.schedules import crontab


def beat_schedule(hour: int = 7, minute: int = 0) -> dict:
    """The digest once a day, in the morning (Celery's ``timezone``). The task
    writes at most one digest a day, so a second run changes nothing."""
    return {
        "django-order-mail-carrier-tracking-digest": {
            "task": "django_order_mail.carrier_tracking_digest",
            "schedule": crontab(hour=hour, minute=minute),
            "options": {"expires": 3600},
        },
    }
