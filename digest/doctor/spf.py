"""SPF (RFC 7208): the record's syntax, the DNS lookups a receiver spends on it against
the limit of ten, its ``all`` policy, and whether our SMTP host or provider passes.

The record is parsed and walked here, over dnspython, because the doctor asks what a
summary of the record cannot tell: does this IP address pass, and is this provider's
include reached through the include tree.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .findings import Finding, error, info, warning
from .resolver import DnsClient

LOOKUP_LIMIT = 10
_MAX_RECORDS = 40  # records fetched in one walk: bounds the time a pathological tree costs
_LOOKUP_TERMS = {"include", "a", "mx", "ptr", "exists", "redirect"}
_MECHANISM = re.compile(r"^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)(?=$|[:/])(.*)$", re.IGNORECASE)
_MODIFIER = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$")
_DUAL_CIDR = re.compile(r"^(?::(?P<domain>[^/]+))?(?:/(?P<v4>\d+))?(?://(?P<v6>\d+))?$")
_MACRO = re.compile(r"%\{[slodiphcrtvSLODIPHCRTV]\d*r?[.\-+,/_=]*\}|%%|%_|%-")
_DOMAIN = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]*)(?:\.[A-Za-z0-9_-]+)*\.?$")
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


class SpfSyntaxError(ValueError):
    """The record breaks RFC 7208's grammar: receivers return permerror (SPF fails)."""


@dataclass(frozen=True)
class Term:
    qualifier: str    # "+", "-", "~" or "?"
    mechanism: str    # lower case
    target: str = ""  # domain-spec or network, "" when absent
    cidr4: int = 32
    cidr6: int = 128

    @property
    def has_macro(self) -> bool:
        return "%" in self.target


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]
    redirect: str = ""

    @property
    def all_qualifier(self) -> str:
        """The ``all`` term's qualifier, or "" when the record has none."""
        return next((t.qualifier for t in self.terms if t.mechanism == "all"), "")


def parse_spf(text: str) -> SpfRecord:
    """Parse one ``v=spf1`` record; raises SpfSyntaxError naming the offending term."""
    words = text.split()
    if not words or words[0].lower() != "v=spf1":
        raise SpfSyntaxError("does not start with v=spf1")
    terms: list[Term] = []
    modifiers: dict[str, str] = {}
    for word in words[1:]:
        mechanism = _MECHANISM.match(word)
        if mechanism:
            terms.append(_term(word, mechanism.group(1) or "+", mechanism.group(2).lower(), mechanism.group(3)))
            continue
        modifier = _MODIFIER.match(word)
        if not modifier:
            raise SpfSyntaxError(f"unknown term {word!r}")
        name, value = modifier.group(1).lower(), modifier.group(2)
        if name in ("redirect", "exp"):
            if name in modifiers:
                raise SpfSyntaxError(f"{name}= appears twice")
            _check_domain_spec(value, word)
        modifiers[name] = value
    return SpfRecord(text, tuple(terms), modifiers.get("redirect", "").lower())


def _term(word: str, qualifier: str, mechanism: str, rest: str) -> Term:
    if mechanism == "all":
        if rest:
            raise SpfSyntaxError(f"{word!r}: all takes no argument")
        return Term(qualifier, mechanism)
    if mechanism in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"{word!r}: {mechanism} needs an address")
        try:
            network = ipaddress.ip_network(rest[1:], strict=False)
        except ValueError:
            raise SpfSyntaxError(f"{word!r}: not an IPv{mechanism[-1]} address or network") from None
        if network.version != int(mechanism[-1]):
            raise SpfSyntaxError(f"{word!r}: not an IPv{mechanism[-1]} address or network")
        return Term(qualifier, mechanism, str(network))
    if mechanism in ("include", "exists"):
        if not rest.startswith(":") or "/" in rest:
            raise SpfSyntaxError(f"{word!r}: {mechanism} needs a domain")
        _check_domain_spec(rest[1:], word)
        return Term(qualifier, mechanism, rest[1:].lower())
    parts = _DUAL_CIDR.match(rest)
    if not parts or (mechanism == "ptr" and (parts["v4"] or parts["v6"])):
        raise SpfSyntaxError(f"{word!r}: malformed {mechanism}")
    domain = parts["domain"] or ""
    if domain:
        _check_domain_spec(domain, word)
    v4, v6 = int(parts["v4"] or 32), int(parts["v6"] or 128)
    if v4 > 32 or v6 > 128:
        raise SpfSyntaxError(f"{word!r}: prefix length out of range")
    return Term(qualifier, mechanism, domain.lower(), v4, v6)


def _check_domain_spec(spec: str, word: str) -> None:
    if "%" in _MACRO.sub("", spec):
        raise SpfSyntaxError(f"{word!r}: malformed macro")
    literal = _MACRO.sub("x", spec)
    if not _DOMAIN.match(literal):
        raise SpfSyntaxError(f"{word!r}: {spec!r} is not a domain")


class SpfWalk:
    """One domain's SPF tree: records fetched once, lookups counted, IPs evaluated."""

    def __init__(self, dns: DnsClient):
        self.dns = dns
        self.records: dict[str, SpfRecord | None] = {}
        self.problems: list[tuple[str, str]] = []  # (domain, what is wrong): permerrors below the top
        self.reached: set[str] = set()              # every include/redirect target in the tree
        self._counts: dict[str, int] = {}

    def record(self, domain: str) -> SpfRecord | None:
        """The domain's SPF record, None when it has none; SpfSyntaxError when broken."""
        if domain not in self.records:
            if len(self.records) >= _MAX_RECORDS:
                raise SpfSyntaxError(f"more than {_MAX_RECORDS} SPF records in the include tree")
            found = [text for text in self.dns.txt(domain) if text.lower().split(" ", 1)[0] == "v=spf1"]
            if len(found) > 1:
                raise SpfSyntaxError(f"{len(found)} SPF records (a domain may have only one)")
            self.records[domain] = parse_spf(found[0]) if found else None
        return self.records[domain]

    def lookups(self, domain: str, stack: tuple[str, ...] = ()) -> int:
        """DNS lookups receivers spend evaluating ``domain``'s record, includes and redirect counted in."""
        if domain in self._counts:
            return self._counts[domain]
        if domain in stack:
            self.problems.append((domain, f"include loop: {' -> '.join((*stack, domain))}"))
            return 0
        record = self.record(domain)
        if record is None:
            return 0
        count = 0
        targets = [t.target for t in record.terms if t.mechanism == "include"] + ([record.redirect] if record.redirect else [])
        count += sum(1 for t in record.terms if t.mechanism in _LOOKUP_TERMS) + bool(record.redirect)
        for target in targets:
            if "%" in target:
                continue
            self.reached.add(target)
            try:
                if self.record(target) is None:
                    self.problems.append((target, f"included by {domain} but has no SPF record"))
                    continue
            except SpfSyntaxError as exc:
                self.problems.append((target, f"included by {domain}: {exc}"))
                continue
            count += self.lookups(target, (*stack, domain))
        self._counts[domain] = count
        return count

    def result(self, ip: str, domain: str, depth: int = 0) -> str:
        """check_host() for ``ip``: pass, fail, softfail, neutral (none matched), or permerror."""
        try:
            record = self.record(domain) if depth <= LOOKUP_LIMIT else None
        except SpfSyntaxError:
            return "permerror"
        if record is None:
            return "permerror" if depth else "none"
        address = ipaddress.ip_address(ip)
        for term in record.terms:
            if self._matches(term, address, domain, depth):
                return QUALIFIERS[term.qualifier]
        if record.redirect and "%" not in record.redirect:
            return self.result(ip, record.redirect, depth + 1)
        return "neutral"

    def _matches(self, term: Term, address, domain: str, depth: int) -> bool:
        target = term.target or domain
        if term.mechanism == "all":
            return True
        if term.mechanism in ("ip4", "ip6"):
            return address in ipaddress.ip_network(term.target)
        if term.has_macro or term.mechanism in ("ptr", "exists"):
            return False  # needs the sender's details; the doctor cannot tell, so it does not count on it
        if term.mechanism == "include":
            return self.result(str(address), target, depth + 1) == "pass"
        hosts = [target] if term.mechanism == "a" else [host for _, host in self.dns.mx(target) if host]
        prefix = term.cidr4 if address.version == 4 else term.cidr6
        return any(address in ipaddress.ip_network(f"{found}/{prefix}", strict=False)
                   for host in hosts for found in self.dns.addresses(host)
                   if ipaddress.ip_address(found).version == address.version)


def check_spf(dns: DnsClient, domain: str, role: str, suggestion: str) -> tuple[list[Finding], SpfWalk | None]:
    """Findings for ``domain``'s SPF record (``role``: "From domain", "return-path domain");
    ``suggestion`` is the mechanism to offer when the record is missing."""
    walk = SpfWalk(dns)
    try:
        record = walk.record(domain)
    except SpfSyntaxError as exc:
        return [error("spf-syntax", domain, f"SPF record of the {role} is broken ({exc}), so SPF fails (permerror)",
                      f'keep one TXT record at {domain} of the form "v=spf1 {suggestion} -all"')], None
    if record is None:
        return [error("spf-missing", domain, f"the {role} has no SPF record, so receivers cannot tell your mail from forgeries",
                      f'add TXT {domain} "v=spf1 {suggestion} -all"')], None
    findings: list[Finding] = []
    count = walk.lookups(domain)
    for where, problem in walk.problems:
        findings.append(error("spf-syntax", where, f"SPF of {domain} fails (permerror): {problem}",
                              f"remove the include of {where} from {domain}'s record, or publish SPF at {where}"))
    if count > LOOKUP_LIMIT:
        findings.append(error("spf-too-many-lookups", domain,
                              f"SPF needs {count} DNS lookups, over the limit of {LOOKUP_LIMIT}: receivers fail it (permerror)",
                              "drop includes you no longer send through, or replace a/mx/include terms by ip4:/ip6: networks"))
    findings += _all_findings(domain, record)
    if not findings:
        findings.append(info("spf-ok", domain, f"{record.text} ({count} of {LOOKUP_LIMIT} DNS lookups)"))
    return findings, walk


def _all_findings(domain: str, record: SpfRecord) -> list[Finding]:
    qualifier = record.all_qualifier
    if qualifier == "+":
        return [error("spf-plus-all", domain, "SPF ends in +all, which lets every host on the internet send as you",
                      f"replace +all by -all in the TXT record at {domain} (~all while you check who sends for it)")]
    if qualifier == "~":
        return [warning("spf-softfail-all", domain, "SPF ends in ~all (softfail): unlisted hosts are only marked suspicious",
                        f"once every sender is listed, end the record at {domain} with -all")]
    if qualifier == "?" or (not qualifier and not record.redirect):
        what = "?all (neutral)" if qualifier else "no all term, which means ?all (neutral)"
        return [warning("spf-neutral-all", domain, f"SPF ends in {what}: it says nothing about unlisted hosts",
                        f"end the record at {domain} with -all (or ~all)")]
    return []


def check_host_listed(walk: SpfWalk, domain: str, host: str, addresses: list[str]) -> list[Finding]:
    """Does SPF of the return-path domain pass mail from our SMTP host's addresses?"""
    unlisted = [ip for ip in addresses if walk.result(ip, domain) != "pass"]
    if not unlisted:
        return [info("spf-host-listed", domain, f"SPF passes the SMTP host {host} ({', '.join(addresses)})")]
    mechanism = " ".join(f"ip{ipaddress.ip_address(ip).version}:{ip}" for ip in unlisted) if is_ip(host) else f"a:{host}"
    return [warning("spf-host-not-listed", domain,
                    f"SPF does not pass the SMTP host {host} ({', '.join(unlisted)}): its mail fails SPF",
                    f"add {mechanism} to the TXT record at {domain}, before the all term")]


def check_provider_listed(walk: SpfWalk, domain: str, provider_name: str, include: str) -> list[Finding]:
    """Is the provider's SPF include reached from the return-path domain's record?"""
    if include in walk.reached:
        return []
    return [warning("spf-host-not-listed", domain, f"SPF does not include {provider_name} ({include})",
                    f"add include:{include} to the TXT record at {domain}, before the all term "
                    "(or set [doctor] return_path_domain if the provider sends with its own return path)")]


def is_ip(host: str) -> bool:
    """True for an IP address literal such as an [smtp] host of 192.0.2.1."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
