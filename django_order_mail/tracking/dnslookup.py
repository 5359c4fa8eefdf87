"""The building blocks of the domain check: findings and DNS TXT lookups."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..exceptions import OrderMailError

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    area: str  # "SPF", "DKIM" or "DMARC"
    level: str
    message: str
    fix: str = ""


class DnsLookupError(OrderMailError):
    """A lookup failed (timeout, no server): not the same as "no record"."""


class Dns:
    """TXT lookups through dnspython, optionally against given nameservers."""

    def __init__(self, nameservers=None, port: int = 53, timeout: float = 5.0):
        try:
            import dns.resolver
        except ImportError as exc:  # pragma: no cover - depends on the install
            message = _("dnspython is not installed: pip install 'django-order-mail[dns]'")
            raise DnsLookupError(message) from exc
        import dns.exception

        self._dns = dns
        try:
            self.resolver = dns.resolver.Resolver(configure=not nameservers)
        except dns.resolver.NoResolverConfiguration as exc:
            raise DnsLookupError(_("no DNS resolver configured on this machine; pass --nameserver")) from exc
        if nameservers:
            self.resolver.nameservers = list(nameservers)
            self.resolver.port = port
        self.resolver.lifetime = timeout
        self.resolver.timeout = timeout

    def txt(self, name: str) -> list[str]:
        """The TXT strings at ``name`` (each record's parts joined), [] if none."""
        resolver = self._dns.resolver
        try:
            answer = self.resolver.resolve(name, "TXT")
        except (resolver.NXDOMAIN, resolver.NoAnswer):
            return []
        except self._dns.exception.DNSException as exc:
            message = _("DNS lookup of %(name)s failed: %(error)s") % {"name": name, "error": exc}
            raise DnsLookupError(message) from exc
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


def parse_tags(record: str) -> dict[str, str]:
    """``"v=DMARC1; p=none"`` → ``{"v": "DMARC1", "p": "none"}`` (keys lower-case)."""
    tags = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags[key.strip().lower()] = value.strip()
    return tags
