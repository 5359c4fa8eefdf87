"""The retention run as a Celery task (beat: ``retention_beat_schedule()``)."""

from __future__ import annotations

from celery import shared_task

from .retention import run_retention


@shared_task(name="django_order_mail.retention", ignore_result=True)
def retention() -> dict:
    return run_retention()
