"""``manage.py order_mail_status``: outbox health at a glance (for monitoring).

Exits with status 1 when queued emails are older than ``--max-age`` seconds
or there are failures since ``--since-hours``, so it can back an alert.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Count, Min
from django.utils import timezone

from django_order_mail.outbox.models import OutboxEmail, Status


class Command(BaseCommand):
    help = "Show outbox counts per status, the oldest queued email and recent failures."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=600, help="Alert if queued longer (s).")
        parser.add_argument("--since-hours", type=int, default=24, help="Failures window (hours).")

    def handle(self, *args, max_age, since_hours, **options):
        now = timezone.now()
        active = OutboxEmail.objects.filter(status__in=(Status.QUEUED, Status.SCHEDULED, Status.SENDING))
        for row in active.values("status").annotate(n=Count("id")).order_by("status"):
            self.stdout.write(f"{row['status']:<10} {row['n']}")
        oldest = OutboxEmail.objects.filter(status=Status.QUEUED, send_after__isnull=True).aggregate(
            oldest=Min("enqueued_at")
        )["oldest"]
        age = (now - oldest).total_seconds() if oldest else 0
        self.stdout.write(f"oldest queued: {age:.0f}s")
        failed = OutboxEmail.objects.filter(
            status=Status.FAILED, updated_at__gte=now - timedelta(hours=since_hours)
        )
        for row in failed.order_by("-updated_at")[:20]:
            self.stdout.write(f"FAILED #{row.pk} {row.event} {row.reference}: {row.last_error}")
        problems = age > max_age or failed.exists()
        if problems:
            self.stderr.write("order mail needs attention")
            raise SystemExit(1)
