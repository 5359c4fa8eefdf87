import os

from celery import Celery

from django_order_mail.carts.schedule import beat_schedule as cart_beat_schedule
from django_order_mail.delivery.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

app = Celery("proj")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # finds django_order_mail.tasks and the feature apps' tasks

app.conf.beat_schedule = {
    **beat_schedule(),  # the outbox sweep (30 s)
    **cart_beat_schedule(),  # the abandoned-cart scan (5 min), if the carts app is installed
    # ... your own periodic tasks
}
