"""The demo shop's Celery app.

Run a worker with the beat scheduler embedded (beat runs the outbox sweep that
sends scheduled emails and re-publishes anything the broker lost)::

    celery -A demo_shop worker -B --loglevel=info

In production run beat as its own single process: ``celery -A demo_shop beat``.
"""

import os

from celery import Celery

from django_order_mail.carrier_tracking.schedule import beat_schedule as carrier_tracking_beat_schedule
from django_order_mail.carts.schedule import beat_schedule as cart_beat_schedule
from django_order_mail.delivery.schedule import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_shop.settings")

app = Celery("demo_shop")
# Every CELERY_* Django setting configures Celery (CELERY_BROKER_URL -> broker_url).
app.config_from_object("django.conf:settings", namespace="CELERY")
# ``<app>.tasks`` of every installed app, plus the package's delivery tasks,
# which live in django_order_mail.delivery.tasks rather than a top-level tasks.py.
app.autodiscover_tasks()
app.autodiscover_tasks(["django_order_mail.delivery"])

# The sweep: due scheduled emails (feedback requests), lost broker messages,
# rows stuck in "sending". Short in the demo so --fast-feedback is quick.
# The abandoned-cart scan and the carrier-tracking digest of parcels without
# carrier scans come from those apps' own helpers.
app.conf.beat_schedule = {
    **beat_schedule(every=float(os.environ.get("ORDER_MAIL_SWEEP_EVERY", "10"))),
    **cart_beat_schedule(),
    **carrier_tracking_beat_schedule(),
}
