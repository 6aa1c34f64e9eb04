"""Sealed member tokens for unsubscribe (and later preference) links.

A link must identify the member without showing who they are: an address in a URL
lands in every web server and proxy log, and spam filters score it as phishing
(SpamAssassin's GB_CUSTOM_HTM_URI). So the link carries one opaque token, a small
payload (``{"list": ..., "email": ...}``, with room for more keys such as a language)
sealed with AES-SIV (RFC 5297) from ``cryptography``. Sealing is authenticated
encryption: the token can be neither read nor altered without the secret, and the
server reads it back without a database lookup, so a render costs one encryption per
member (about a microsecond) and the web app needs no table of issued tokens.

AES-SIV is deterministic and needs no nonce: the same member gets the same token in
every message (links stay stable, a resent message is byte-identical) and no random
nonce can ever repeat. It reveals only that two tokens are equal, which a link that
identifies one member reveals anyway.

Token layout, lower-case base32 without padding (see ``encode_token``)::

    version (1 byte, 0x01) | synthetic IV (16 bytes) | AES-SIV ciphertext of the JSON payload

The 512-bit SIV key is derived from the secret with HKDF-SHA256, so any secret string
works and the key serves nothing else. The version byte is bound in as associated
data, so a later format can be told apart and this one cannot pass as it. Links sent before tokens were sealed (``?list=..&email=..&token=HMAC``) are still
honoured by ``verify_legacy_token`` so old messages keep a working unsubscribe link.

The secret comes from the environment variable config names, or from the private file
``.digest/secret`` that the first local send creates (see ``unsubscribe_secret``).
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..config import Settings
from ..errors import ConfigError

SECRET_FILE = "secret"  # in the ledger's folder: .digest/secret beside config.toml by default

TOKEN_VERSION = b"\x01"
SIV_BYTES = 16
MAX_TOKEN_CHARS = 2048  # far above any real token; refuses to decode megabytes of junk
_KDF_INFO = b"digest member token v1"


def unsubscribe_secret(settings: Settings, required: bool, create: bool = False) -> str:
    """The signing secret: the environment variable config names, else the file
    ``secret`` in the ledger's folder (``.digest/secret``), which must be private (mode
    0600). ``create`` makes that file, with a random secret, when neither exists (the
    outbox, ``--test`` and ``serve-unsubscribe`` do, so local links verify); otherwise
    ``required`` makes their absence a ConfigError, and without it (a build, a preview)
    a random secret is used for this process only. There is no built-in secret."""
    name = settings.newsletter.unsubscribe_secret_env
    secret = os.environ.get(name, "").strip()
    if secret:
        return secret
    path = settings.path("ledger").parent / SECRET_FILE
    secret = _read_secret_file(path)
    if secret:
        return secret
    if create:
        return _create_secret_file(path)
    if required:
        raise ConfigError(f"environment variable {name} (the unsubscribe link secret) is not set, and there is "
                          f"no {path}: set it to the secret your unsubscribe app uses")
    return secrets.token_urlsafe(32)


def _read_secret_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the unsubscribe secret ({exc.strerror})") from None
    if mode & 0o077:
        raise ConfigError(f"{path}: the unsubscribe secret is readable by others (mode {mode & 0o777:o}); "
                          f"run `chmod 600 {path}`")
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"{path}: cannot read the unsubscribe secret ({exc})") from None


def _create_secret_file(path: Path) -> str:
    """A new random secret in ``path``, created 0600 and exclusively (a concurrent run
    that created it first wins, and its secret is read back)."""
    secret = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret_file(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the unsubscribe secret ({exc.strerror})") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return secret


@functools.lru_cache(maxsize=8)
def _cipher(secret: str) -> AESSIV:
    """One AES-SIV instance per secret: key derivation runs once, not once per member."""
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_KDF_INFO).derive(secret.encode("utf-8"))
    return AESSIV(key)


def make_token(secret: str, list_id: str, email: str, **extra: str) -> str:
    """Seal ``{"list": list_id, "email": lower-cased address, **extra}`` into an opaque token."""
    payload = {"list": list_id, "email": email.strip().lower(), **extra}
    plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    sealed = TOKEN_VERSION + _cipher(secret).encrypt(plain, [TOKEN_VERSION])
    return encode_token(sealed)


def read_token(secret: str, token: str) -> dict[str, str] | None:
    """The payload of a token sealed with ``secret``; None for anything else (forged,
    altered, truncated, another secret, another format)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        sealed = decode_token(token)
    except (binascii.Error, ValueError):
        return None
    if sealed[:1] != TOKEN_VERSION or len(sealed) <= 1 + SIV_BYTES:
        return None
    try:
        payload = json.loads(_cipher(secret).decrypt(sealed[1:], [TOKEN_VERSION]))
    except (InvalidTag, ValueError):
        return None
    if not isinstance(payload, dict) or not all(isinstance(v, str) for v in payload.values()):
        return None
    return payload


_BASE32_LOWER = "abcdefghijklmnopqrstuvwxyz234567"


def encode_token(data: bytes) -> str:
    """Lower-case base32 without padding: one word of [a-z2-7]. Spam filters look for
    Bitcoin addresses (SpamAssassin's PDS_BTC_ID: a word starting 1 or 3, then 25 to 34
    base58 characters); base64url's '-' starts a new word, after which a random token
    matched now and then, adding 1.0 to that member's score."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def decode_token(token: str) -> bytes:
    """The bytes ``encode_token`` wrote; binascii.Error or ValueError for anything else."""
    if not token or token.strip(_BASE32_LOWER):
        raise ValueError("not a token")
    return base64.b32decode(token.upper() + "=" * (-len(token) % 8))


def verify_token(secret: str, token: str, list_id: str) -> dict[str, str] | None:
    """The payload if ``token`` is genuine and for ``list_id``, else None."""
    payload = read_token(secret, token)
    if payload is None or payload.get("list") != list_id or not payload.get("email"):
        return None
    return payload


def verify_legacy_token(secret: str, list_id: str, email: str, token: str) -> bool:
    """The HMAC tokens of links sent before tokens were sealed: 128-bit HMAC-SHA256 of
    list and lower-cased address. Only read, never made, so old messages still work."""
    message = f"{list_id}\n{email.strip().lower()}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()[:16]
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(expected, token or "")


def list_id_for(settings: Settings) -> str:
    newsletter = settings.newsletter
    if newsletter.list_id:
        return newsletter.list_id
    return newsletter.from_email.rpartition("@")[2] or "digest"


def unsubscribe_base(settings: Settings) -> str:
    """Where the unsubscribe app answers: ``[newsletter] unsubscribe_url`` or ``{base_url}/unsubscribe``."""
    return settings.newsletter.unsubscribe_url or f"{settings.newsletter.base_url.rstrip('/')}/unsubscribe"


def unsubscribe_url(settings: Settings, secret: str, email: str, extra: Mapping[str, str] | None = None) -> str:
    """The per-member https link used in the footer and in List-Unsubscribe: the
    unsubscribe page with one sealed token, and no address in it, readable or encoded."""
    token = make_token(secret, list_id_for(settings), email, **(extra or {}))
    return f"{unsubscribe_base(settings)}?token={token}"
