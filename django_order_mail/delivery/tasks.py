"""Celery tasks. Each only points at a database row; the row holds the truth.

``acks_late`` lets the broker redeliver a message whose worker died; a
duplicate delivery of the message is harmless because :func:`claim` lets only
one worker move a row to ``sending``. A worker killed by SIGKILL may still
have its message acked by Celery - the sweep releases such rows.
"""

from __future__ import annotations

from celery import shared_task

from .sender import deliver
from .sweep import sweep


@shared_task(name="django_order_mail.send_email", acks_late=True, ignore_result=True)
def send_email(email_id: int) -> str:
    return deliver(email_id)


@shared_task(name="django_order_mail.sweep", ignore_result=True)
def sweep_outbox() -> dict:
    return sweep()
