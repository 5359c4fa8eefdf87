"""Celery beat entry of the core's sweep; merge it into your ``beat_schedule``.

Each feature app with a periodic task has a ``schedule`` module of its own
(``django_order_mail.carts.schedule.beat_schedule()``: the abandoned-cart
scan), so a project's beat runs only the tasks of the apps it installed
(``docs/installation.rst``). These helpers import nothing from Django: a
project's ``celery.py`` calls them before Django is set up.
"""

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
        },
    }


def retention_beat_schedule(hour: int = 3, minute: int = 30) -> dict:
    """The data retention run (``docs/data-protection.rst``) once a night,
    when the shop is quiet (Celery's ``timezone``); merge it like the sweep's
    entry. A run that overlaps another only finds less to do."""
    from celery.schedules import crontab

    return {
        "django-order-mail-retention": {
            "task": "django_order_mail.retention",
            "schedule": crontab(hour=hour, minute=minute),
            "options": {"expires": 3600},
        },
    }
