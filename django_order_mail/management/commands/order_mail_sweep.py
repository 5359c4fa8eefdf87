"""``manage.py order_mail_sweep``: run the outbox sweep once (or in a loop).

Use it from cron or a process manager when you do not run Celery beat; the
sweep is safe to run from several machines at once.
"""

import time

from django.core.management.base import BaseCommand

from django_order_mail.delivery.sweep import sweep


class Command(BaseCommand):
    help = "Publish due scheduled emails, re-publish lost ones and release stuck sends."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", type=float, metavar="SECONDS", help="Repeat every SECONDS until interrupted."
        )

    def handle(self, *args, loop=None, **options):
        while True:
            counts = sweep()
            self.stdout.write(", ".join(f"{k}={v}" for k, v in counts.items()))
            if not loop:
                return
            time.sleep(loop)
