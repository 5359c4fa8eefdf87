"""SPF, DKIM and DMARC check of the sending domain, with dnspython.

Gmail and Yahoo reject or spam-folder mail from senders without SPF, DKIM
and an aligned DMARC policy; this tells the shop what is missing and what to
publish. ``manage.py order_mail_check_domain`` prints the findings.

Each finding has a level: ``ok``, ``warning`` (works, but should improve) or
``error`` (mail will fail authentication). A DNS failure (timeout, no
nameserver) is reported as an error of that check, never as "no record".
"""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

from .checks import aligned, org_domain
from .dnslookup import ERROR, OK, WARNING, Dns, DnsLookupError, Finding, parse_tags

#: RFC 7208 §4.6.4: at most 10 mechanisms that need a DNS query.
SPF_LOOKUP_LIMIT = 10
_SPF_LOOKUP_TERMS = {"include", "a", "mx", "ptr", "exists", "redirect"}


def _spf_records(dns: Dns, domain: str) -> list[str]:
    return [t.strip() for t in dns.txt(domain) if t.strip().lower().split(" ")[0] == "v=spf1"]


def _spf_walk(dns: Dns, domain: str, record: str, seen: set, problems: list) -> tuple[int, list[str]]:
    """DNS-querying terms of ``record`` and everything it includes."""
    count, includes = 0, []
    for term in record.split()[1:]:
        body = term.lstrip("+-~?")
        name = body.split(":")[0].split("=")[0].split("/")[0].lower()
        if name not in _SPF_LOOKUP_TERMS:
            continue
        count += 1
        if name == "ptr":
            problems.append(
                Finding(
                    "SPF",
                    WARNING,
                    _("%(domain)s uses the ptr mechanism, which is deprecated and slow.")
                    % {"domain": domain},
                    _("Replace ptr by ip4:/ip6: ranges or includes."),
                )
            )
        if name not in ("include", "redirect"):
            continue
        target = body.split(":", 1)[1] if name == "include" else body.split("=", 1)[1]
        target = target.lower().rstrip(".")
        includes.append(target)
        if target in seen:
            continue
        seen.add(target)
        nested = _spf_records(dns, target)
        if not nested:
            problems.append(
                Finding(
                    "SPF",
                    ERROR,
                    _("%(term)s points to %(target)s, which has no SPF record (a permanent error).")
                    % {"term": name, "target": target},
                    _("Remove it or correct the domain name."),
                )
            )
            continue
        n, more = _spf_walk(dns, target, nested[0], seen, problems)
        count += n
        includes.extend(more)
    return count, includes


def check_spf(dns: Dns, domain: str) -> list[Finding]:
    records = _spf_records(dns, domain)
    if not records:
        return [
            Finding(
                "SPF",
                ERROR,
                _("No SPF record at %(domain)s.") % {"domain": domain},
                _(
                    "Publish one TXT record 'v=spf1 include:<your ESP's SPF domain> ~all' (your ESP's "
                    "domain settings show the include)."
                ),
            )
        ]
    if len(records) > 1:
        return [
            Finding(
                "SPF",
                ERROR,
                _("%(n)s SPF records at %(domain)s; receivers treat that as a permanent error.")
                % {"n": len(records), "domain": domain},
                _("Merge them into one TXT record."),
            )
        ]
    record = records[0]
    problems: list[Finding] = []
    count, includes = _spf_walk(dns, domain, record, {domain}, problems)
    findings = [
        Finding(
            "SPF",
            OK,
            _("%(record)s (%(count)s of %(limit)s DNS lookups; includes: %(includes)s)")
            % {
                "record": record,
                "count": count,
                "limit": SPF_LOOKUP_LIMIT,
                "includes": ", ".join(includes) or "-",
            },
        )
    ]
    if count > SPF_LOOKUP_LIMIT:
        findings.append(
            Finding(
                "SPF",
                ERROR,
                _("The record needs %(count)s DNS lookups; the limit is %(limit)s, so SPF fails.")
                % {"count": count, "limit": SPF_LOOKUP_LIMIT},
                _("Remove includes you no longer use, or replace some by their ip4:/ip6: ranges."),
            )
        )
    terms = [t.lower() for t in record.split()[1:]]
    final = next((t for t in terms if t.lstrip("+-~?") == "all"), None)
    if final in ("all", "+all"):
        findings.append(
            Finding(
                "SPF",
                ERROR,
                _("'%(term)s' lets every server on the internet send as %(domain)s.")
                % {"term": final, "domain": domain},
                _("End the record with ~all or -all."),
            )
        )
    elif final == "?all" or (final is None and not any(t.startswith("redirect=") for t in terms)):
        findings.append(
            Finding(
                "SPF",
                WARNING,
                _("The record ends neutral (%(term)s): it does not tell receivers to distrust other servers.")
                % {"term": final or _("no 'all'")},
                _("End the record with ~all (or -all once you are sure every sender is listed)."),
            )
        )
    return findings + problems


def rsa_key_bits(key_b64: str) -> int | None:
    """Size of the RSA key in a DKIM ``p=`` tag (SubjectPublicKeyInfo or
    PKCS#1 DER), or None if it cannot be read."""

    def header(data: bytes, pos: int) -> tuple[int, int, int]:
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        return tag, pos, length

    try:
        der = base64.b64decode("".join(key_b64.split()), validate=True)
        tag, pos, _length = header(der, 0)
        if tag != 0x30:
            return None
        tag, inner, length = header(der, pos)
        if tag == 0x30:  # SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING
            tag, bits_pos, bits_len = header(der, inner + length)
            if tag != 0x03:
                return None
            rsa = der[bits_pos + 1 : bits_pos + bits_len]  # skip the unused-bits byte
            tag, pos, _length = header(rsa, 0)
            tag, pos, length = header(rsa, pos)
            modulus = rsa[pos : pos + length]
        elif tag == 0x02:  # PKCS#1 RSAPublicKey
            modulus = der[inner : inner + length]
        else:
            return None
        return int.from_bytes(modulus, "big").bit_length() or None
    except (binascii.Error, ValueError, IndexError):
        return None


def check_dkim(dns: Dns, domain: str, selectors: list[str]) -> list[Finding]:
    if not selectors:
        return [
            Finding(
                "DKIM",
                WARNING,
                _("No DKIM selector to check."),
                _(
                    "Set ORDER_MAIL['DKIM_SELECTORS'] (or pass --selector) to the selector(s) your ESP's "
                    "domain settings show, e.g. 'pm' for Postmark or 's1', 's2' for SendGrid."
                ),
            )
        ]
    findings = []
    for selector in selectors:
        name = f"{selector}._domainkey.{domain}"
        records = [r for r in dns.txt(name) if "p=" in r.replace(" ", "")]
        if not records:
            findings.append(
                Finding(
                    "DKIM",
                    ERROR,
                    _("No DKIM key at %(name)s.") % {"name": name},
                    _("Publish the DKIM record (TXT or CNAME) your ESP gives you for selector %(s)s.")
                    % {"s": selector},
                )
            )
            continue
        tags = parse_tags(records[0])
        key_type = tags.get("k", "rsa").lower()
        key = "".join(tags.get("p", "").split())
        if tags.get("v", "DKIM1") != "DKIM1":
            findings.append(Finding("DKIM", ERROR, _("%(name)s is not a DKIM1 record.") % {"name": name}))
        elif not key:
            findings.append(
                Finding(
                    "DKIM",
                    ERROR,
                    _("The key at %(name)s is revoked (empty p=).") % {"name": name},
                    _("Publish the current key from your ESP, or remove the selector from the settings."),
                )
            )
        else:
            bits = rsa_key_bits(key) if key_type == "rsa" else None
            size = _(" (%(bits)s bits)") % {"bits": bits} if bits else ""
            if bits is not None and bits < 1024:
                level, fix = ERROR, _("Receivers ignore RSA keys under 1024 bits; rotate to a 2048-bit key.")
            elif bits is not None and bits < 2048:
                level, fix = WARNING, _("2048-bit keys are recommended; rotate the key at your ESP.")
            else:
                level, fix = OK, ""
            findings.append(
                Finding(
                    "DKIM",
                    level,
                    _("Selector %(s)s: %(type)s key%(size)s.")
                    % {"s": selector, "type": key_type, "size": size},
                    fix,
                )
            )
            if "y" in tags.get("t", "").split(":"):
                findings.append(
                    Finding(
                        "DKIM",
                        WARNING,
                        _("Selector %(s)s is in test mode (t=y).") % {"s": selector},
                        _("Remove t=y once signing works."),
                    )
                )
    return findings


def _dmarc_records(dns: Dns, domain: str) -> list[str]:
    return [r.strip() for r in dns.txt(f"_dmarc.{domain}") if r.strip().lower().startswith("v=dmarc1")]


def check_dmarc(dns: Dns, domain: str, sending_domain: str = "") -> list[Finding]:
    used = domain
    records = _dmarc_records(dns, domain)
    if not records and org_domain(domain) != domain:
        used = org_domain(domain)
        records = _dmarc_records(dns, used)
    if not records:
        return [
            Finding(
                "DMARC",
                ERROR,
                _("No DMARC record at _dmarc.%(domain)s.") % {"domain": domain},
                _(
                    "Publish TXT _dmarc.%(domain)s 'v=DMARC1; p=none; rua=mailto:dmarc@%(domain)s', read "
                    "the reports, then move to p=quarantine. Gmail and Yahoo require DMARC for bulk senders."
                )
                % {"domain": domain},
            )
        ]
    if len(records) > 1:
        return [
            Finding(
                "DMARC",
                ERROR,
                _("%(n)s DMARC records at _dmarc.%(domain)s; receivers ignore all of them.")
                % {"n": len(records), "domain": used},
                _("Keep exactly one."),
            )
        ]
    tags = parse_tags(records[0])
    policy = tags.get("p", "").lower()
    if used != domain:
        policy = tags.get("sp", policy).lower()
    findings = []
    if policy not in ("none", "quarantine", "reject"):
        findings.append(
            Finding(
                "DMARC",
                ERROR,
                _("The record has no valid policy (p=%(p)s).") % {"p": policy or "?"},
                _("Add p=none, p=quarantine or p=reject."),
            )
        )
    elif policy == "none":
        findings.append(
            Finding(
                "DMARC",
                WARNING,
                _("Policy p=none (at _dmarc.%(domain)s): monitoring only, spoofed mail is still delivered.")
                % {"domain": used},
                _("Once the aggregate reports show only your own senders, move to p=quarantine."),
            )
        )
    else:
        findings.append(
            Finding("DMARC", OK, _("Policy p=%(p)s at _dmarc.%(domain)s.") % {"p": policy, "domain": used})
        )
    if tags.get("pct", "100") != "100":
        findings.append(
            Finding(
                "DMARC",
                WARNING,
                _("pct=%(pct)s: the policy applies to part of the mail only.") % {"pct": tags["pct"]},
                _("Raise pct to 100 when you are ready."),
            )
        )
    if not tags.get("rua"):
        findings.append(
            Finding(
                "DMARC",
                WARNING,
                _("No aggregate reports (rua=): you will not see who sends as your domain."),
                _("Add rua=mailto:<an address that collects DMARC reports>."),
            )
        )
    strict_dkim, strict_spf = tags.get("adkim", "r") == "s", tags.get("aspf", "r") == "s"
    mode = f"adkim={tags.get('adkim', 'r')}, aspf={tags.get('aspf', 'r')}"
    if sending_domain and not aligned(domain, sending_domain, strict=strict_dkim and strict_spf):
        findings.append(
            Finding(
                "DMARC",
                ERROR,
                _("From domain %(from)s is not aligned with the ESP sending domain %(esp)s (%(mode)s).")
                % {"from": domain, "esp": sending_domain, "mode": mode},
                _(
                    "Authenticate %(from)s itself at your ESP (custom DKIM and return-path), or relax the "
                    "alignment to adkim=r / aspf=r if both share an organisational domain."
                )
                % {"from": domain},
            )
        )
    else:
        findings.append(Finding("DMARC", OK, _("Alignment %(mode)s.") % {"mode": mode}))
    return findings


def check_domain(domain: str, *, selectors=(), sending_domain: str = "", dns: Dns | None = None) -> list:
    """Every finding for ``domain``, SPF first."""
    domain = domain.lower().strip().rstrip(".")
    findings = []
    try:
        dns = dns or Dns()
    except DnsLookupError as exc:
        return [Finding("DNS", ERROR, str(exc))]
    for area, check in (
        ("SPF", lambda d: check_spf(d, domain)),
        ("DKIM", lambda d: check_dkim(d, domain, list(selectors))),
        ("DMARC", lambda d: check_dmarc(d, domain, sending_domain.lower().strip())),
    ):
        try:
            findings.extend(check(dns))
        except DnsLookupError as exc:
            findings.append(Finding(area, ERROR, str(exc), _("Check the DNS server and try again.")))
    return findings
