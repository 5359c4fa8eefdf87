"""The Celery app of the bench workers (``celery -A bench.celery_app worker``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django
from celery import Celery
from celery.signals import task_postrun, task_prerun

django.setup()

from django.conf import settings  # noqa: E402
from django.db import close_old_connections  # noqa: E402

app = Celery("order_mail_bench")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["django_order_mail.delivery"], force=True)
app.set_default()


if settings.CELERY_DB_REUSE_MAX:

    @task_prerun.connect
    @task_postrun.connect
    def _drop_broken_connections(**_kwargs):
        """With connections reused across tasks, drop one that broke (what
        Django does around each web request), so a restarted or failed-over
        database costs one task, not the next DB_REUSE_MAX."""
        close_old_connections()
