"""``manage.py order_mail_forget ADDRESS``: erase one customer's data.

Anonymises the address's rows in the core and every installed feature app
in one transaction and logs the request (without the address).
"""

from django.core.management.base import BaseCommand, CommandError

from django_order_mail.data.models import DataRequest
from django_order_mail.data.requests import erase_address, log_request


class Command(BaseCommand):
    help = "Forget one email address across the send log and the installed feature apps."

    def add_arguments(self, parser):
        parser.add_argument("address")

    def handle(self, *args, address, **options):
        try:
            counts = erase_address(address)
        except ValueError as exc:
            raise CommandError(f"Not an address: {address!r}") from exc
        entry = log_request(DataRequest.Kind.ERASURE, address, counts)
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n}")
        self.stdout.write(f"Logged as data request #{entry.pk}.")
