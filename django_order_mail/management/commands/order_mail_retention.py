"""``manage.py order_mail_retention``: delete or strip data past its period.

Safe while workers send: small batches, each in its own short transaction,
rows a worker holds are skipped (``docs/data-protection.rst``).
"""

from django.core.management.base import BaseCommand, CommandError

from django_order_mail.data.retention import retention_periods, run_retention


class Command(BaseCommand):
    help = "Delete or strip the data older than ORDER_MAIL['RETENTION'] allows."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; change nothing.")
        parser.add_argument("--batch-size", type=int, default=0, help="Rows per transaction.")
        parser.add_argument(
            "--pause",
            type=float,
            default=None,
            help="After each batch, wait this many times as long as it took (default: RETENTION_PAUSE).",
        )

    def handle(self, *args, dry_run=False, batch_size=0, pause=None, **options):
        if pause is not None and pause < 0:
            raise CommandError("--pause must not be negative.")
        periods = retention_periods()
        counts = run_retention(dry_run=dry_run, batch_size=batch_size, pause=pause)
        verb = "would change" if dry_run else "changed"
        for label, days in sorted(periods.items()):
            kept = "kept" if days is None else f"{days} days"
            self.stdout.write(f"{label} ({kept}): {verb} {counts.get(label, 0)}")
