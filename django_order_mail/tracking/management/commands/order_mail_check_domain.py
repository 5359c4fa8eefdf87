"""``manage.py order_mail_check_domain [domain]``: SPF, DKIM and DMARC of the
sending domain, and what to fix (see docs/tracking.rst).

Exits with status 1 when anything is broken, so it can run in CI or a
deployment check.
"""

from email.utils import parseaddr

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from django_order_mail.tracking.app_settings import app_settings
from django_order_mail.tracking.dnslookup import ERROR, OK, WARNING, Dns, DnsLookupError
from django_order_mail.tracking.domaincheck import check_domain


class Command(BaseCommand):
    help = "Check SPF, DKIM and DMARC of the domain order emails are sent from, and say what to fix."

    def add_arguments(self, parser):
        parser.add_argument("domain", nargs="?", help="Domain to check (default: the From address's).")
        parser.add_argument(
            "--selector",
            action="append",
            dest="selectors",
            help="DKIM selector (repeatable; default ORDER_MAIL['DKIM_SELECTORS']).",
        )
        parser.add_argument(
            "--sending-domain",
            help="Domain your ESP sends as, for DMARC alignment (default ORDER_MAIL['SENDING_DOMAIN']).",
        )
        parser.add_argument(
            "--nameserver", action="append", dest="nameservers", help="Ask this DNS server (repeatable)."
        )
        parser.add_argument("--port", type=int, default=53, help="Port of --nameserver (default 53).")
        parser.add_argument("--timeout", type=float, default=5.0, help="Seconds per DNS lookup.")

    def handle(self, *args, domain=None, selectors=None, sending_domain=None, **options):
        if not domain:
            address = app_settings.FROM_EMAIL or settings.DEFAULT_FROM_EMAIL
            domain = parseaddr(address)[1].rpartition("@")[2]
        if not domain or "." not in domain:
            raise CommandError("Give the domain to check (no usable From address in the settings).")
        selectors = selectors or list(app_settings.DKIM_SELECTORS or [])
        sending_domain = sending_domain or app_settings.SENDING_DOMAIN or ""
        try:
            dns = Dns(options["nameservers"], port=options["port"], timeout=options["timeout"])
        except DnsLookupError as exc:
            raise CommandError(str(exc)) from exc
        via = f" (ESP sends as {sending_domain})" if sending_domain else ""
        self.stdout.write(f"Checking {domain}{via}")
        styles = {OK: self.style.SUCCESS, WARNING: self.style.WARNING, ERROR: self.style.ERROR}
        findings = check_domain(domain, selectors=selectors, sending_domain=sending_domain, dns=dns)
        for finding in findings:
            mark = styles[finding.level](f"{finding.level.upper():<8}")
            self.stdout.write(f"{finding.area:<6}{mark}{finding.message}")
            if finding.fix:
                self.stdout.write(f"{'':<14}fix: {finding.fix}")
        errors = sum(f.level == ERROR for f in findings)
        warnings = sum(f.level == WARNING for f in findings)
        if errors:
            raise CommandError(f"{errors} problem(s) to fix, {warnings} warning(s).")
        self.stdout.write(self.style.SUCCESS(f"No problems; {warnings} warning(s)."))
