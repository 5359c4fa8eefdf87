"""Celery task discovery: ``app.autodiscover_tasks()`` imports ``<app>.tasks``
of every installed app, so each feature app's tasks are found in its own
``tasks`` module (``carts.tasks``, ``marketplaces.tasks``)."""

from .data.tasks import retention
from .delivery.tasks import send_email, send_emails, sweep_outbox

__all__ = ["retention", "send_email", "send_emails", "sweep_outbox"]
