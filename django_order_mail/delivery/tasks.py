"""Celery tasks. Each only points at a database row; the row holds the truth.

``acks_late`` lets the broker redeliver a message whose worker died; a
duplicate delivery of the message is harmless because :func:`claim` lets only
one worker move a row to ``sending``. A worker killed by SIGKILL may still
have its message acked by Celery - the sweep releases such rows.
"""

from __future__ import annotations

from celery import shared_task

from ..app_settings import app_settings
from .sender import deliver, deliver_batch
from .sweep import sweep


@shared_task(bind=True, name="django_order_mail.send_emails", acks_late=True, ignore_result=True)
def send_emails(self, email_ids: list[int]) -> dict[int, str]:
    """Send a batch of outbox rows (what :func:`~django_order_mail.outbox.enqueue.publish`
    sends), and, in a worker, further due rows while the sending threads have
    room (``DELIVERY_KEEP_CLAIMING``, :mod:`.flow`). Run eagerly (Celery's
    ``task_always_eager``: in the thread that committed) or called as a
    function, only its own rows."""
    in_worker = not (self.request.is_eager or self.request.called_directly)
    keep_claiming = float(app_settings.DELIVERY_KEEP_CLAIMING) if in_worker else 0.0
    return deliver_batch(email_ids, keep_claiming=keep_claiming)


@shared_task(name="django_order_mail.send_email", acks_late=True, ignore_result=True)
def send_email(email_id: int) -> str:
    """Send one outbox row: for code that hands a single id to Celery
    itself (the package publishes ``send_emails``)."""
    return deliver(email_id)


@shared_task(name="django_order_mail.sweep", ignore_result=True)
def sweep_outbox() -> dict:
    return sweep()
