"""Fixtures for the doctor and DKIM tests: DKIM keys generated per session (never
committed), a loopback DNS server, and a sending domain whose records are all right,
which each broken zone then spoils in one way."""
from __future__ import annotations

from pathlib import Path

import dns.nameserver
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from digest.delivery.dkim import DkimKey

from .dns_server import Zones, ZoneServer

SMTP_ADDRESS = "192.0.2.10"  # documentation range: the DNS checks never connect to it


def write_pkcs8(private_key, path: Path) -> Path:
    path.write_bytes(private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return path


@pytest.fixture(scope="session")
def dkim_keys(tmp_path_factory) -> dict[str, tuple[Path, DkimKey]]:
    """{"rsa": (pem path, key), "ed25519": ..., "other-rsa": ...}: PKCS#8 PEM files in a temporary folder."""
    folder = tmp_path_factory.mktemp("dkim")
    made = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ed25519": ed25519.Ed25519PrivateKey.generate(),
            "other-rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
    keys = {}
    for name, private_key in made.items():
        algorithm = "ed25519-sha256" if name == "ed25519" else "rsa-sha256"
        keys[name] = (write_pkcs8(private_key, folder / f"{name}.pem"), DkimKey(algorithm, private_key, name))
    return keys


@pytest.fixture(scope="session")
def dns_zones():
    """(zones, server): one DNS server on loopback for the session; tests add their own domains."""
    zones = Zones()
    server = ZoneServer(zones).start()
    yield zones, server
    server.stop()


def add_sending_domain(zones: Zones, domain: str, key: DkimKey, selector: str = "sel") -> None:
    """Every record a domain sending through smtp.<domain> needs, all right."""
    zones.txt(domain, f"v=spf1 include:_spf.{domain} -all")
    zones.txt(f"_spf.{domain}", f"v=spf1 a:mx.{domain} ip4:192.0.2.0/24 -all")
    zones.a(f"smtp.{domain}", SMTP_ADDRESS)
    zones.txt(f"{selector}._domainkey.{domain}", key.dns_record())
    zones.txt(f"_dmarc.{domain}", f"v=DMARC1; p=reject; rua=mailto:dmarc@{domain}")
    zones.txt(f"default._bimi.{domain}", f"v=BIMI1; l=https://{domain}/logo.svg")
    zones.mx(domain, f"mx.{domain}")
    zones.a(f"mx.{domain}", "192.0.2.25")


def doctor_environ(domain: str, nameserver: str, key_path: Path, **overrides) -> dict[str, str]:
    """``settings_with`` overrides for sending as news@<domain> through smtp.<domain>, signing with ``key_path``."""
    values = {"newsletter_from_email": f"news@{domain}", "delivery_backend": "smtp", "smtp_host": f"smtp.{domain}",
              "dkim_selector": "sel", "dkim_private_key_path": str(key_path), "doctor_nameservers": nameserver}
    values.update(overrides)
    return {key: str(value) for key, value in values.items() if value is not None}


def txt_lookup(nameserver: str):
    """A dkimpy ``dnsfunc`` that asks the loopback server, so verification uses the zone's key."""
    host, port = nameserver.split(":")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(host, int(port))]

    def lookup(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(name, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    return lookup
