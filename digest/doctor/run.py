"""The doctor's runs: ``diagnose`` for ``digest doctor`` (every check), ``check_dns`` for
the gate before a send (SPF, DKIM and DMARC only, under a short total deadline).

Each check is guarded: DNS that does not answer turns that check into one warning
(``dns-unreachable``), since nothing can be concluded from silence, and the run goes on.
"""
from __future__ import annotations

import ipaddress
from typing import Callable

from ..config import Settings
from .dkim_record import check_dkim
from .dmarc import check_dmarc
from .domain import check_bimi, check_mx
from .findings import Finding, Report, info, warning
from .resolver import DnsClient, DnsUnavailable
from .sender import Sender, sender_from
from .smtp import check_smtp
from .spf import check_host_listed, check_provider_listed, check_spf, is_ip

PRESEND_TIMEOUT = 2.0  # seconds for all of the DNS checks before a send


def diagnose(settings: Settings, *, connect: bool = True) -> Report:
    """Every check of the sending setup: DNS (SPF, DKIM, DMARC, BIMI, MX) and, for the
    SMTP backend, the server's TLS and AUTH (unless ``connect`` is false)."""
    sender = sender_from(settings)
    doctor = settings.table("doctor")
    dns = DnsClient(doctor["nameservers"], float(doctor["timeout"]))
    findings = _dns_findings(dns, sender)
    findings += _guarded("bimi", sender.from_domain, lambda: check_bimi(dns, sender.from_domain))
    findings += _guarded("mx", sender.from_domain, lambda: check_mx(dns, sender.from_domain))
    if sender.smtp is not None and connect:
        findings += check_smtp(sender.smtp)
    return Report.of(findings, sender.describe())


def check_dns(settings: Settings, timeout: float = PRESEND_TIMEOUT) -> Report:
    """SPF, DKIM and DMARC only, all within ``timeout`` seconds: what a send checks first."""
    sender = sender_from(settings)
    dns = DnsClient(settings.table("doctor")["nameservers"], timeout)
    return Report.of(_dns_findings(dns, sender), sender.describe())


def _dns_findings(dns: DnsClient, sender: Sender) -> list[Finding]:
    findings: list[Finding] = []
    domains = [(sender.from_domain, "From domain")]
    if sender.return_path_domain != sender.from_domain:
        domains.append((sender.return_path_domain, "return-path domain"))
    for domain, role in domains:
        findings += _guarded("spf", domain, lambda: _spf(dns, sender, domain, role))
    findings += _guarded("dkim", sender.dkim_domain, lambda: check_dkim(dns, sender))
    findings += _guarded("dmarc", sender.from_domain, lambda: check_dmarc(dns, sender))
    return findings


def _spf(dns: DnsClient, sender: Sender, domain: str, role: str) -> list[Finding]:
    findings, walk = check_spf(dns, domain, role, _suggestion(sender))
    if walk is None or domain != sender.return_path_domain:
        return findings
    if sender.provider is not None:
        return findings + check_provider_listed(walk, domain, sender.provider.name, sender.provider.spf_include)
    if sender.smtp is not None:
        host = sender.smtp.host
        addresses = [host] if is_ip(host) else dns.addresses(host)
        if not addresses:
            return findings + [warning("spf-host-not-listed", domain, f"the SMTP host {host} has no address in DNS",
                                       "check [smtp] host")]
        if all(ipaddress.ip_address(a).is_loopback for a in addresses):
            return findings + [info("spf-host-listed", domain, f"the SMTP host {host} is this machine: "
                                    "SPF must pass the address it relays from, which only it knows")]
        return findings + check_host_listed(walk, domain, host, addresses)
    return findings


def _suggestion(sender: Sender) -> str:
    if sender.provider is not None:
        return f"include:{sender.provider.spf_include}"
    if sender.smtp is not None and not is_ip(sender.smtp.host):
        return f"a:{sender.smtp.host}"
    if sender.smtp is not None:
        return f"ip{ipaddress.ip_address(sender.smtp.host).version}:{sender.smtp.host}"
    return "include:<your mail provider's SPF domain>"


def _guarded(check: str, subject: str, run: Callable[[], list[Finding]]) -> list[Finding]:
    try:
        return run()
    except DnsUnavailable as exc:
        return [warning("dns-unreachable", subject, f"could not check {check.upper()}: {exc}",
                        "check the network, or [doctor] nameservers")]
