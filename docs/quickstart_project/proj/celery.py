import os

from celery import Celery

from django_order_mail.delivery.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # finds django_order_mail.tasks and the feature apps' tasks

app.conf.beat_schedule = {
    **beat_schedule(),  # the outbox sweep (30 s) and the abandoned-cart scan (5 min)
    # ... your own periodic tasks
}
