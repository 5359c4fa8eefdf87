"""The Celery app of the integration tests (also run as ``celery -A``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integration.settings")

import django
from celery import Celery

django.setup()

app = Celery("order_mail_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["django_order_mail.delivery"], force=True)
app.set_default()
