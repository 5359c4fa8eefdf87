"""Celery task discovery: ``app.autodiscover_tasks()`` imports ``<app>.tasks``."""

from .carts.scan import abandoned_cart_scan
from .delivery.tasks import send_email, send_emails, sweep_outbox
from .marketplaces.tasks import marketplace_sync

__all__ = ["abandoned_cart_scan", "marketplace_sync", "send_email", "send_emails", "sweep_outbox"]
