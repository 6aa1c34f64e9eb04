"""DKIM signing of each member's message after personalisation, with dkimpy.

Receivers check DKIM over the exact bytes that arrive, and every member's message
differs (To, Message-ID, the unsubscribe link, the member's fields in the body), so
each message is signed on its own, as the last step before a backend hands it over.
The SMTP backend and the outbox call ``signer_for(settings)`` once and apply it to
``OutgoingMessage.raw``; without a key in ``[dkim]`` that signer returns the bytes as
they are.

The key is a PKCS#8 PEM file (``private_key_path``) or the PEM text in the variable
``private_key_env`` names; it is never printed. dkimpy and cryptography are imported
only when a key is configured.
"""
from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..config import Settings
from ..errors import ConfigError, DkimKeyError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

ALGORITHMS = ("rsa-sha256", "ed25519-sha256")
# What Gmail, Yahoo and Outlook expect to be covered, RFC 8058 requires for one-click
# unsubscribe, and the MIME headers. Names listed twice are "oversigned": the
# signature then also covers their absence, so nobody can add a second one in transit.
SIGNED_HEADERS = (
    "From", "From", "To", "Subject", "Subject", "Date", "Message-ID", "Reply-To", "List-Id",
    "List-Unsubscribe", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Unsubscribe-Post",
    "MIME-Version", "Content-Type",
)
# relaxed headers survive re-folding in transit; our bodies are quoted-printable with
# CRLF lines and no trailing spaces, which "simple" keeps exactly and hashes cheaply.
CANONICALIZATION = (b"relaxed", b"simple")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class DkimKey:
    """A private key loaded from config, with the algorithm it signs with."""

    algorithm: str
    private_key: "PrivateKeyTypes" = field(repr=False)
    source: str  # where it came from, for messages (a path or a variable name, never the key)

    @property
    def public_key(self) -> "PublicKeyTypes":
        return self.private_key.public_key()

    @property
    def key_type(self) -> str:
        """The ``k=`` tag of the DNS record: ``rsa`` or ``ed25519``."""
        return self.algorithm.split("-")[0]

    def dns_record(self) -> str:
        """The TXT value to publish at ``<selector>._domainkey.<domain>``."""
        return f"v=DKIM1; k={self.key_type}; p={public_key_base64(self.public_key)}"


def public_key_base64(public_key: "PublicKeyTypes") -> str:
    """The ``p=`` value: SubjectPublicKeyInfo DER for RSA, the raw 32 bytes for Ed25519 (RFC 8463)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode("ascii")


def check_dns_name(value: str, setting: str) -> str:
    """A selector or signing domain is one or more DNS labels (RFC 6376 section 3.1)."""
    if not value or not all(_LABEL.match(label) for label in value.split(".")):
        raise ConfigError(f"{setting} {value!r} is not a DNS name (ASCII letters, digits, '-' and '.')")
    return value


def dkim_settings(settings: Settings) -> dict[str, Any]:
    """The [dkim] table, with ``domain`` defaulting to the From address's domain."""
    config = settings.table("dkim")
    config["domain"] = str(config["domain"] or settings.newsletter.from_email.rpartition("@")[2]).lower().rstrip(".")
    return config


def signs(settings: Settings) -> bool:
    """True when [dkim] names a private key, so our backends sign."""
    config = settings.table("dkim")
    return bool(config["private_key_path"] or config["private_key_env"])


def load_key(settings: Settings) -> DkimKey | None:
    """The configured private key, or None when [dkim] names none."""
    config = settings.table("dkim")
    path_setting, variable = str(config["private_key_path"]), str(config["private_key_env"])
    if not path_setting and not variable:
        return None
    if path_setting and variable:
        raise ConfigError("[dkim] sets both private_key_path and private_key_env: keep one")
    if path_setting:
        path = settings.path("dkim", "private_key_path")
        source = str(path)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise DkimKeyError(f"DKIM private key {path} does not exist ([dkim] private_key_path)") from None
        except OSError as exc:
            raise DkimKeyError(f"DKIM private key {path}: cannot read ({exc.strerror})") from None
    else:
        source = f"${variable}"
        text = os.environ.get(variable, "")
        if not text:
            raise DkimKeyError(f"environment variable {variable} (the DKIM private key) is not set")
        pem = text.encode("utf-8")
    private_key = _parse_pkcs8(pem, source)
    algorithm = _algorithm_for(private_key, str(config["algorithm"]), source)
    return DkimKey(algorithm, private_key, source)


def _parse_pkcs8(pem: bytes, source: str) -> "PrivateKeyTypes":
    from cryptography.hazmat.primitives import serialization

    if b"-----BEGIN PRIVATE KEY-----" not in pem:
        hint = ""
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in pem:
            hint = ": it is encrypted; store it unencrypted where only the sender can read it"
        elif b"-----BEGIN RSA PRIVATE KEY-----" in pem:
            hint = ": convert it with `openssl pkcs8 -topk8 -nocrypt -in old.pem -out new.pem`"
        raise DkimKeyError(f"DKIM private key {source} is not a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----){hint}")
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise DkimKeyError(f"DKIM private key {source} is not a readable PKCS#8 PEM key") from None


def _algorithm_for(private_key: "PrivateKeyTypes", configured: str, source: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 1024:
            raise DkimKeyError(f"DKIM private key {source} is RSA-{private_key.key_size}: receivers ignore keys under 1024 bits; use 2048")
        inferred = "rsa-sha256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        inferred = "ed25519-sha256"
    else:
        raise DkimKeyError(f"DKIM private key {source} is neither RSA nor Ed25519")
    if configured and configured not in ALGORITHMS:
        raise ConfigError(f"[dkim] algorithm must be one of {', '.join(ALGORITHMS)}, not {configured!r}")
    if configured and configured != inferred:
        raise DkimKeyError(f"[dkim] algorithm is {configured} but {source} is a key for {inferred}")
    return inferred


class DkimSigner:
    """Prepends a DKIM-Signature to a message's bytes; one instance serves every member."""

    def __init__(self, key: DkimKey, selector: str, domain: str):
        from cryptography.hazmat.primitives import serialization

        self.key = key
        self.selector = check_dns_name(selector, "[dkim] selector").encode("ascii")
        self.domain = check_dns_name(domain, "[dkim] domain").encode("ascii")
        self.algorithm = key.algorithm.encode("ascii")
        if key.key_type == "rsa":  # dkimpy reads RSA keys as PKCS#1 PEM, Ed25519 as the base64 seed
            self._secret = key.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
        else:
            self._secret = base64.b64encode(key.private_key.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))
        self._headers = [name.encode("ascii") for name in SIGNED_HEADERS]

    def __repr__(self) -> str:
        return f"DkimSigner(s={self.selector.decode()}, d={self.domain.decode()}, {self.key.algorithm})"

    def __call__(self, raw: bytes) -> bytes:
        import dkim

        signature = dkim.sign(raw, self.selector, self.domain, self._secret, signature_algorithm=self.algorithm,
                              canonicalize=CANONICALIZATION, include_headers=self._headers)
        return signature + raw


def _unsigned(raw: bytes) -> bytes:
    return raw


def signer_for(settings: Settings) -> Callable[[bytes], bytes]:
    """What a backend applies to each message's bytes: a DkimSigner when [dkim] names a
    key, else the bytes unchanged. Raises ConfigError/DkimKeyError before anything is sent."""
    key = load_key(settings)
    if key is None:
        return _unsigned
    config = dkim_settings(settings)
    if not config["selector"]:
        raise ConfigError("[dkim] selector is not set: name the selector the public key is published under")
    return DkimSigner(key, str(config["selector"]), str(config["domain"]))
