"""``manage.py order_mail_marketplace_sync``: apply a marketplace order feed.

Exits with status 1 when an item failed or the page source stopped, so a
cron job or a monitor notices; the failures are in the sync log
(``MarketplaceOrderUpdate``) with their reasons.
"""

from datetime import timezone as dt_timezone

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from django_order_mail.marketplaces.sync import FeedError, run_sync


class Command(BaseCommand):
    help = "Apply a marketplace order-status feed (JSON files or a page source) to the orders."

    def add_arguments(self, parser):
        parser.add_argument("marketplace", nargs="?", default="aliexpress", help="Adapter name.")
        parser.add_argument(
            "--file",
            dest="files",
            action="append",
            default=[],
            help="JSON feed file (an API answer, a list of pages, or JSON Lines). Repeatable.",
        )
        parser.add_argument(
            "--source",
            help="Dotted path of a callable yielding API answers (pages); gets since=<datetime>.",
        )
        parser.add_argument(
            "--since",
            help="ISO timestamp passed to --source instead of the stored cursor.",
        )
        parser.add_argument(
            "--no-notify",
            action="store_true",
            help="Move orders without emailing customers (the skips are logged), e.g. for a backfill.",
        )

    def handle(self, *args, marketplace, files, source, since, no_notify, **options):
        since_value = None
        if since:
            since_value = parse_datetime(since)
            if since_value is None:
                raise CommandError(f"--since {since!r} is not an ISO timestamp")
            if timezone.is_naive(since_value):
                since_value = timezone.make_aware(since_value, dt_timezone.utc)
        try:
            summary = run_sync(
                marketplace, files=files, source=source, since=since_value, notify=not no_notify
            )
        except (FeedError, ImproperlyConfigured, ImportError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(summary))
        for problem in summary.problems[:50]:
            self.stdout.write(f"FAILED {problem}")
        if not summary.ok:
            self.stderr.write("marketplace sync needs attention")
            raise SystemExit(1)
