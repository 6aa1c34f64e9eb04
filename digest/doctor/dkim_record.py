"""DKIM in DNS: the selector's record exists, is a usable key, and, when we sign, is
the public half of our private key (a stale record after a key rotation fails every
message). With a provider that signs, its selector's record must exist."""
from __future__ import annotations

import base64
import binascii

from .findings import Finding, error, info, warning
from .resolver import DnsClient
from .sender import Sender


def parse_tags(text: str) -> dict[str, str]:
    """``tag=value; ...`` as in DKIM and DMARC records (RFC 6376 section 3.2); whitespace removed."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            tags.setdefault(name.strip().lower(), "".join(value.split()))
    return tags


def check_dkim(dns: DnsClient, sender: Sender) -> list[Finding]:
    if sender.dkim_key_problem:
        return [error("dkim-key", sender.dkim_domain, sender.dkim_key_problem,
                      "point [dkim] private_key_path (or private_key_env) at a PKCS#8 PEM private key")]
    if sender.dkim_selector:
        return _check_selector(dns, sender, sender.dkim_selector)
    if sender.provider and sender.provider.selectors:
        for selector in sender.provider.selectors:
            if _records(dns, _name(selector, sender)):
                return _check_selector(dns, sender, selector)
        tried = ", ".join(sender.provider.selectors)
        return [warning("dkim-not-configured", sender.dkim_domain,
                        f"no DKIM record at {sender.provider.name}'s usual selectors ({tried})",
                        f"publish the DKIM records {sender.provider.name} shows for {sender.dkim_domain}, "
                        "and set [dkim] selector to the selector they use")]
    if sender.provider:
        fix = f"set [dkim] selector to the selector {sender.provider.name} gave you for {sender.dkim_domain}"
    else:
        fix = "make a key, set [dkim] selector and private_key_path, and publish the record `digest doctor` then shows"
    return [warning("dkim-not-configured", sender.dkim_domain,
                    "no DKIM selector configured, so nothing can be checked (and we do not sign)", fix)]


def _name(selector: str, sender: Sender) -> str:
    return f"{selector}._domainkey.{sender.dkim_domain}"


def _records(dns: DnsClient, name: str) -> list[str]:
    return [text for text in dns.txt(name) if "p=" in text.replace(" ", "")]


def _check_selector(dns: DnsClient, sender: Sender, selector: str) -> list[Finding]:
    name = _name(selector, sender)
    key = sender.dkim_key
    publish = f'publish TXT {name} "{key.dns_record()}"' if key else f"publish the DKIM record your provider shows for {name}"
    records = _records(dns, name)
    if not records:
        return [error("dkim-missing", name, "no DKIM key record at the selector, so DKIM fails on every message", publish)]
    if len(records) > 1:
        return [error("dkim-invalid", name, f"{len(records)} DKIM key records at one selector: receivers may pick either",
                      f"keep one TXT record at {name}")]
    tags = parse_tags(records[0])
    key_type = tags.get("k", "rsa").lower()
    problem, published = "", b""
    if tags.get("v", "DKIM1") != "DKIM1":
        problem = f"v={tags['v']} is not DKIM1"
    elif not tags.get("p"):
        problem = "p= is empty: the key is revoked"
    elif key_type not in ("rsa", "ed25519"):
        problem = f"k={key_type} is not rsa or ed25519"
    else:
        try:
            published = base64.b64decode(tags["p"], validate=True)
        except (binascii.Error, ValueError):
            problem = "p= is not base64"
    if problem:
        return [error("dkim-invalid", name, f"the DKIM record is unusable ({problem})", publish)]
    if key is not None and (key_type != key.key_type or not _same_key(published, key)):
        return [error("dkim-mismatch", name, f"the published key is not the public half of our key ({key.source})",
                      f'replace the record: {publish}')]
    signer = "we sign" if key is not None else f"{sender.provider.name} signs" if sender.provider else "the SMTP server signs"
    return [info("dkim-ok", name, f"DKIM {key_type} key published; {signer} with s={selector} d={sender.dkim_domain}")]


def _same_key(published: bytes, key) -> bool:
    """Compare the record's key with ours as keys, so PKCS#1 and SPKI forms of one RSA key match."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    ours = key.public_key
    if isinstance(ours, ed25519.Ed25519PublicKey):
        return published == ours.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        theirs = serialization.load_der_public_key(published)
    except ValueError:
        body = base64.encodebytes(published).decode("ascii")
        try:
            theirs = serialization.load_pem_public_key(
                f"-----BEGIN RSA PUBLIC KEY-----\n{body}-----END RSA PUBLIC KEY-----\n".encode("ascii"))
        except ValueError:
            return False
    return isinstance(theirs, rsa.RSAPublicKey) and theirs.public_numbers() == ours.public_numbers()
