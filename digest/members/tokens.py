"""HMAC tokens for unsubscribe links: unforgeable, not enumerable, tied to one list.

The secret comes from the environment variable config names; without it a build or
preview still works with a development secret, but a real send refuses to start.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from urllib.parse import quote

from ..config import Settings
from ..errors import ConfigError

DEVELOPMENT_SECRET = "digest-development-secret-not-for-sending"


def unsubscribe_secret(settings: Settings, required: bool) -> str:
    """The signing secret from the environment; ``required`` makes its absence an error."""
    name = settings.newsletter.unsubscribe_secret_env
    secret = os.environ.get(name, "")
    if secret:
        return secret
    if required:
        raise ConfigError(f"environment variable {name} (the unsubscribe link secret) is not set")
    return DEVELOPMENT_SECRET


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
