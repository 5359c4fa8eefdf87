"""``order_mail_check_domain`` against a DNS server the tests run on 127.0.0.1.

The server is a few lines of dnspython (already a dependency of the check)
answering UDP queries from a dict, in a thread: no extra test dependency, and
the check talks real DNS wire format through dnspython's resolver.
"""

from __future__ import annotations

import base64
import socket
import threading
from io import StringIO

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from django.core.management import CommandError, call_command

from django_order_mail.tracking.dnslookup import Dns
from django_order_mail.tracking.domaincheck import check_domain, rsa_key_bits


def der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + content


def rsa_public_key(bits: int) -> str:
    """A syntactically real SubjectPublicKeyInfo with a ``bits``-bit modulus."""
    modulus = (1 << (bits - 1)) | 1
    rsa = der(0x30, der(0x02, b"\x00" + modulus.to_bytes(bits // 8, "big")) + der(0x02, b"\x01\x00\x01"))
    algorithm = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    return base64.b64encode(der(0x30, algorithm + der(0x03, b"\x00" + rsa))).decode()


class FakeDNS:
    """Authoritative answers for TXT (and CNAME) records from ``zone``:
    ``{"name.example": ["txt value", ...]}``, ``{("x.example", "CNAME"): "target"}``."""

    def __init__(self, zone: dict):
        self.zone = {}
        for key, value in zone.items():
            name, rtype = key if isinstance(key, tuple) else (key, "TXT")
            self.zone[(name.lower().rstrip("."), rtype)] = value if isinstance(value, list) else [value]
        self.queries = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @staticmethod
    def _txt(value: str) -> str:
        chunks = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
        return " ".join(f'"{c}"' for c in chunks)

    def _answer(self, query):
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        rtype = dns.rdatatype.to_text(question.rdtype)
        if (name, "CNAME") in self.zone:
            target = self.zone[(name, "CNAME")][0]
            response.answer.append(
                dns.rrset.from_text(question.name, 300, "IN", "CNAME", target.rstrip(".") + ".")
            )
            name = target.lower().rstrip(".")
        values = self.zone.get((name, rtype))
        if values:
            owner = dns.name.from_text(name)
            texts = [self._txt(v) for v in values] if rtype == "TXT" else values
            response.answer.append(dns.rrset.from_text_list(owner, 300, "IN", rtype, texts))
        elif not any(key[0] == name or key[0].endswith("." + name) for key in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def _serve(self):
        while not self.stopped.is_set():
            try:
                data, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.queries += 1
            self.sock.sendto(self._answer(dns.message.from_wire(data)).to_wire(), addr)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join(timeout=2)
        self.sock.close()

    def resolver(self) -> Dns:
        return Dns(["127.0.0.1"], port=self.port, timeout=2)


KEY_2048 = rsa_public_key(2048)

GOOD_ZONE = {
    "shop.example": ["v=spf1 include:spf.esp.example ~all", "google-site-verification=abc"],
    "spf.esp.example": "v=spf1 ip4:192.0.2.0/24 include:more.esp.example -all",
    "more.esp.example": "v=spf1 ip4:198.51.100.0/24 -all",
    ("pm._domainkey.shop.example", "CNAME"): "pm.dkim.esp.example",
    "pm.dkim.esp.example": f"k=rsa; p={KEY_2048}",
    "_dmarc.shop.example": "v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.example; adkim=r; aspf=r",
}


def levels(findings, area=None):
    return [(f.area, f.level) for f in findings if area is None or f.area == area]


def test_rsa_key_size_is_read_from_the_dkim_record():
    assert rsa_key_bits(KEY_2048) == 2048
    assert rsa_key_bits(rsa_public_key(1024)) == 1024
    assert rsa_key_bits("not base64!") is None
    assert rsa_key_bits(base64.b64encode(b"\x04\x00").decode()) is None


def test_a_well_configured_domain_passes():
    with FakeDNS(GOOD_ZONE) as server:
        findings = check_domain("shop.example", selectors=["pm"], dns=server.resolver())
    assert {f.level for f in findings} == {"ok"}, findings
    spf = findings[0]
    assert "2 of 10 DNS lookups" in spf.message and "spf.esp.example, more.esp.example" in spf.message
    assert any("(2048 bits)" in f.message for f in findings if f.area == "DKIM")


def test_missing_records_are_errors_with_a_fix():
    with FakeDNS({"www.shop.example": "unrelated"}) as server:
        findings = check_domain("shop.example", selectors=["pm"], dns=server.resolver())
    assert levels(findings) == [("SPF", "error"), ("DKIM", "error"), ("DMARC", "error")]
    assert all(f.fix for f in findings)
    assert "v=spf1 include:" in findings[0].fix
    assert "pm._domainkey.shop.example" in findings[1].message
    assert "v=DMARC1; p=none" in findings[2].fix


def test_spf_over_ten_lookups_fails():
    zone = {"shop.example": "v=spf1 " + " ".join(f"include:s{i}.esp.example" for i in range(6)) + " -all"}
    for i in range(6):
        zone[f"s{i}.esp.example"] = f"v=spf1 include:t{i}.esp.example -all"
        zone[f"t{i}.esp.example"] = "v=spf1 ip4:192.0.2.1 -all"
    with FakeDNS(zone) as server:
        findings = check_domain("shop.example", dns=server.resolver())
    spf = [f for f in findings if f.area == "SPF"]
    assert "12 of 10" in spf[0].message
    assert spf[1].level == "error" and "limit is 10" in spf[1].message


@pytest.mark.parametrize(
    ("record", "level", "text"),
    [
        ("v=spf1 include:spf.esp.example +all", "error", "every server"),
        ("v=spf1 include:spf.esp.example ?all", "warning", "neutral"),
        ("v=spf1 include:spf.esp.example", "warning", "neutral"),
        ("v=spf1 include:gone.example ~all", "error", "no SPF record"),
        ("v=spf1 ptr ~all", "warning", "ptr"),
    ],
)
def test_spf_problems(record, level, text):
    zone = {**GOOD_ZONE, "shop.example": record}
    with FakeDNS(zone) as server:
        findings = check_domain("shop.example", selectors=["pm"], dns=server.resolver())
    problems = [f for f in findings if f.area == "SPF" and f.level != "ok"]
    assert [f.level for f in problems] == [level]
    assert text in problems[0].message


def test_two_spf_records_are_a_permanent_error():
    zone = {**GOOD_ZONE, "shop.example": ["v=spf1 -all", "v=spf1 include:spf.esp.example ~all"]}
    with FakeDNS(zone) as server:
        findings = check_domain("shop.example", dns=server.resolver())
    assert levels(findings, "SPF") == [("SPF", "error")]


def test_dkim_weak_revoked_and_missing_selector():
    zone = {
        **GOOD_ZONE,
        "old._domainkey.shop.example": f"v=DKIM1; k=rsa; p={rsa_public_key(1024)}",
        "tiny._domainkey.shop.example": f"v=DKIM1; k=rsa; p={rsa_public_key(512)}",
        "gone._domainkey.shop.example": "v=DKIM1; k=rsa; p=",
    }
    with FakeDNS(zone) as server:
        selectors = ["old", "tiny", "gone", "none"]
        findings = check_domain("shop.example", selectors=selectors, dns=server.resolver())
    dkim = [(f.level, f.message) for f in findings if f.area == "DKIM"]
    assert [level for level, _m in dkim] == ["warning", "error", "error", "error"]
    assert "1024 bits" in dkim[0][1] and "512 bits" in dkim[1][1]
    assert "revoked" in dkim[2][1] and "No DKIM key" in dkim[3][1]


def test_no_selector_configured_is_a_warning():
    with FakeDNS(GOOD_ZONE) as server:
        findings = check_domain("shop.example", dns=server.resolver())
    assert levels(findings, "DKIM") == [("DKIM", "warning")]


def test_dmarc_policy_none_and_missing_reports_warn():
    zone = {**GOOD_ZONE, "_dmarc.shop.example": "v=DMARC1; p=none; pct=50"}
    with FakeDNS(zone) as server:
        findings = check_domain("shop.example", selectors=["pm"], dns=server.resolver())
    dmarc = [(f.level, f.message) for f in findings if f.area == "DMARC"]
    assert [level for level, _m in dmarc] == ["warning", "warning", "warning", "ok"]
    assert "monitoring only" in dmarc[0][1]


def test_dmarc_is_found_at_the_organisational_domain_and_alignment_checked():
    zone = {**GOOD_ZONE, "mail.shop.example": GOOD_ZONE["shop.example"]}
    zone["_dmarc.shop.example"] = (
        "v=DMARC1; p=reject; sp=quarantine; rua=mailto:d@shop.example; adkim=s; aspf=s"
    )
    with FakeDNS(zone) as server:
        findings = check_domain("mail.shop.example", sending_domain="pm.esp.example", dns=server.resolver())
    dmarc = [(f.level, f.message) for f in findings if f.area == "DMARC"]
    assert dmarc[0] == ("ok", "Policy p=quarantine at _dmarc.shop.example.")
    assert dmarc[-1][0] == "error" and "not aligned" in dmarc[-1][1]
    with FakeDNS(zone) as server:
        strict = check_domain("mail.shop.example", sending_domain="b.shop.example", dns=server.resolver())
    assert [f for f in strict if f.area == "DMARC"][-1].level == "error"  # strict: subdomain differs
    zone["_dmarc.shop.example"] = "v=DMARC1; p=reject; rua=mailto:d@shop.example"
    with FakeDNS(zone) as server:
        relaxed = check_domain("mail.shop.example", sending_domain="b.shop.example", dns=server.resolver())
    assert [f for f in relaxed if f.area == "DMARC"][-1].level == "ok"  # relaxed: same organisation


def test_dns_failure_is_reported_not_mistaken_for_a_missing_record():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))  # bound but never answers
    port = sock.getsockname()[1]
    try:
        findings = check_domain("shop.example", dns=Dns(["127.0.0.1"], port=port, timeout=0.3))
    finally:
        sock.close()
    assert levels(findings) == [("SPF", "error"), ("DKIM", "warning"), ("DMARC", "error")]
    assert "failed" in findings[0].message


# -- the management command ---------------------------------------------------------------------------


def run(*args):
    out = StringIO()
    call_command("order_mail_check_domain", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_command_prints_findings_and_succeeds(mail_settings):
    mail_settings(DKIM_SELECTORS=["pm"], FROM_EMAIL="Shop <orders@shop.example>")
    with FakeDNS(GOOD_ZONE) as server:
        output = run("--nameserver", "127.0.0.1", "--port", str(server.port))
    assert output.startswith("Checking shop.example")
    assert "SPF   OK" in output and "DKIM  OK" in output and "DMARC OK" in output
    assert "No problems; 0 warning(s)." in output


def test_command_fails_with_what_to_fix():
    with FakeDNS({"_dmarc.shop.example": "v=DMARC1; p=none"}) as server:
        out = StringIO()
        with pytest.raises(CommandError, match=r"2 problem\(s\) to fix"):
            call_command(
                "order_mail_check_domain",
                "shop.example",
                "--selector",
                "pm",
                "--nameserver",
                "127.0.0.1",
                "--port",
                str(server.port),
                stdout=out,
                no_color=True,
            )
    output = out.getvalue()
    assert "SPF   ERROR" in output and "fix: Publish one TXT record" in output
    assert "DKIM  ERROR" in output


def test_command_needs_a_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "webmaster@localhost"
    with pytest.raises(CommandError, match="Give the domain"):
        run()
