"""Celery task discovery: ``app.autodiscover_tasks()`` imports ``<app>.tasks``."""

from .delivery.tasks import send_email, sweep_outbox

__all__ = ["send_email", "sweep_outbox"]
