"""Celery task: sync a marketplace from its feed.

Schedule it with Celery beat for a page source (your API client), e.g. every
ten minutes::

    app.conf.beat_schedule["aliexpress-sync"] = {
        "task": "django_order_mail.marketplace_sync",
        "schedule": 600,
        "kwargs": {"marketplace": "aliexpress", "source": "shop.aliexpress.order_pages"},
    }

The sync is idempotent, so a redelivered or overlapping run does no harm:
repeats are recognised and two runs moving the same order wait for each
other on the order's row lock.
"""

from __future__ import annotations

from celery import shared_task

from .sync import run_sync


@shared_task(name="django_order_mail.marketplace_sync", acks_late=True)
def marketplace_sync(
    marketplace: str = "aliexpress",
    source: str | None = None,
    files: list[str] | None = None,
    notify: bool = True,
) -> dict:
    """Apply the feed of ``marketplace`` from the page source ``source`` (dotted
    path) or the JSON ``files``; return the summary counts."""
    return run_sync(marketplace, files=files or (), source=source, notify=notify).as_dict()
