"""DNS questions for the doctor, with dnspython, under one deadline for the whole run.

A missing record (NXDOMAIN, or a name without that type) is an answer: the empty list.
DNS that does not answer in time, refuses or fails (SERVFAIL, no resolver configured)
raises ``DnsUnavailable``, which the checks turn into a warning rather than a verdict.
The nameservers are ``[doctor] nameservers`` (``host:port``, so tests can point at a
server on loopback), else the system's resolvers.
"""
from __future__ import annotations

import ipaddress
import time
from typing import Sequence

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..errors import ConfigError


class DnsUnavailable(Exception):
    """DNS did not answer (time-out, SERVFAIL, refused, no resolver): nothing can be concluded."""


def parse_nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    """``127.0.0.1``, ``127.0.0.1:5353``, ``::1`` or ``[::1]:5353``; the host must be an IP address."""
    text = entry.strip()
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ConfigError(f"[doctor] nameservers: {entry!r} is not host:port")
            port = _port(rest[1:], entry)
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = _port(port_text, entry)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"[doctor] nameservers: {entry!r} is not an IP address with an optional :port") from None
    return dns.nameserver.Do53Nameserver(host, port)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"[doctor] nameservers: {entry!r} has no valid port")
    return int(text)


class DnsClient:
    """TXT, address and MX lookups sharing one cache and one deadline."""

    def __init__(self, nameservers: Sequence[str] = (), timeout: float = 10.0):
        self.timeout = float(timeout)
        self.deadline = time.monotonic() + self.timeout
        self.resolver: dns.resolver.Resolver | None = None
        self.setup_problem = ""
        try:
            if nameservers:
                self.resolver = dns.resolver.Resolver(configure=False)
                self.resolver.nameservers = [parse_nameserver(entry) for entry in nameservers]
            else:
                self.resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            self.setup_problem = "no system resolver is configured (set [doctor] nameservers)"
        if self.resolver is not None:
            self.resolver.use_edns(0, 0, 1232)
            self.resolver.cache = dns.resolver.Cache()

    def txt(self, name: str) -> list[str]:
        """Each TXT record at ``name`` with its strings joined, as text."""
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in self._resolve(name, "TXT")]

    def addresses(self, name: str) -> list[str]:
        """The IPv4 and IPv6 addresses of ``name``."""
        return [rdata.address for rdtype in ("A", "AAAA") for rdata in self._resolve(name, rdtype)]

    def mx(self, name: str) -> list[tuple[int, str]]:
        """(preference, host) pairs, lowest preference first; host ``""`` is a null MX (RFC 7505)."""
        records = [(rdata.preference, rdata.exchange.to_text(omit_final_dot=True)) for rdata in self._resolve(name, "MX")]
        return sorted(records)

    def _resolve(self, name: str, rdtype: str) -> list:
        if self.resolver is None:
            raise DnsUnavailable(self.setup_problem)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DnsUnavailable(f"DNS gave no answer within {self.timeout:g} s")
        self.resolver.timeout = min(1.0, remaining)  # one lost UDP packet must not use the whole budget
        try:
            return list(self.resolver.resolve(name, rdtype, lifetime=remaining, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
            return []
        except dns.exception.Timeout:
            raise DnsUnavailable(f"DNS gave no answer within {self.timeout:g} s") from None
        except dns.resolver.NoNameservers:
            raise DnsUnavailable(f"no nameserver could answer for {name} {rdtype} (SERVFAIL or refused)") from None
        except (dns.exception.DNSException, OSError) as exc:
            raise DnsUnavailable(f"DNS lookup of {name} {rdtype} failed ({exc})") from None
