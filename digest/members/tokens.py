"""HMAC tokens for unsubscribe links: unforgeable, not enumerable, tied to one list.

The secret comes from the environment variable config names, or from the private file
``.digest/secret`` that the first local send creates (see ``unsubscribe_secret``).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from ..config import Settings
from ..errors import ConfigError

SECRET_FILE = "secret"  # in the ledger's folder: .digest/secret beside config.toml by default


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


def make_token(secret: str, list_id: str, email: str) -> str:
    """128-bit HMAC-SHA256 of list and lower-cased address, URL-safe."""
    message = f"{list_id}\n{email.strip().lower()}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_token(secret: str, list_id: str, email: str, token: str) -> bool:
    return hmac.compare_digest(make_token(secret, list_id, email), token or "")


def list_id_for(settings: Settings) -> str:
    newsletter = settings.newsletter
    if newsletter.list_id:
        return newsletter.list_id
    return newsletter.from_email.rpartition("@")[2] or "digest"


def unsubscribe_url(settings: Settings, secret: str, email: str) -> str:
    """The per-member https link used in the footer and in List-Unsubscribe."""
    base = settings.newsletter.unsubscribe_url or f"{settings.newsletter.base_url.rstrip('/')}/unsubscribe"
    list_id = list_id_for(settings)
    token = make_token(secret, list_id, email)
    return f"{base}?list={quote(list_id, safe='')}&email={quote(email, safe='')}&token={token}"
