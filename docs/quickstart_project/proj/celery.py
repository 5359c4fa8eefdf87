import os

from celery import Celery

from django_order_mail.delivery.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # finds django_order_mail.tasks

app.conf.beat_schedule = {
    **beat_schedule(),  # the outbox sweep, every 30 seconds
    # ... your own periodic tasks
}
