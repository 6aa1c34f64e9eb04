"""Opaque tokens for the members' pages: preference links, confirmation links, form tokens.

A link token is sealed with AES-GCM (``cryptography``) under a key derived from the
site secret, so the URL reveals nothing (no address, no id) and nobody without the
secret can make one. The token's purpose is bound in as associated data: a preference
token is never accepted as a confirmation, nor the other way round. Form (CSRF) tokens
are an HMAC of the browser's cookie under another derived key.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from urllib.parse import quote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..config import Settings
from .tokens import decode_token, encode_token

PREFERENCES, CONFIRM = b"preferences", b"confirm"
_VERSION = b"\x01"
_NONCE = 12


class TokenSealer:
    """Seals and opens the members' pages' tokens with keys derived from one secret."""

    def __init__(self, secret: str):
        root = secret.encode("utf-8")
        self._aead = AESGCM(hmac.new(root, b"digest member link tokens v1", hashlib.sha256).digest())
        self._form_key = hmac.new(root, b"digest form tokens v1", hashlib.sha256).digest()

    def seal(self, purpose: bytes, payload: bytes) -> str:
        nonce = os.urandom(_NONCE)
        return encode_token(_VERSION + nonce + self._aead.encrypt(nonce, payload, purpose))

    def open(self, purpose: bytes, token: str) -> bytes | None:
        """The payload, or None for a token that was forged, altered or made for another purpose."""
        try:
            raw = decode_token(token)
        except (binascii.Error, ValueError):
            return None
        if len(raw) < 1 + _NONCE + 16 or raw[:1] != _VERSION:
            return None
        try:
            return self._aead.decrypt(raw[1:1 + _NONCE], raw[1 + _NONCE:], purpose)
        except InvalidTag:
            return None

    def preferences_token(self, email: str) -> str:
        return self.seal(PREFERENCES, email.strip().lower().encode("utf-8"))

    def preferences_email(self, token: str) -> str | None:
        payload = self.open(PREFERENCES, token)
        return payload.decode("utf-8", "replace") if payload is not None else None

    def form_token(self, cookie: str) -> str:
        """The value a form must carry for the browser holding ``cookie`` (double submit)."""
        return _b64(hmac.new(self._form_key, cookie.encode("ascii", "replace"), hashlib.sha256).digest())

    def form_token_matches(self, cookie: str, token: str) -> bool:
        return bool(cookie) and hmac.compare_digest(self.form_token(cookie), token or "")


def page_url(settings: Settings, page: str, token: str) -> str:
    """``{base_url}/{page}?t={token}``: the only thing in the query is the opaque token."""
    return f"{settings.newsletter.base_url.rstrip('/')}/{page}?t={quote(token, safe='')}"


def preferences_url(settings: Settings, sealer: TokenSealer, email: str) -> str:
    """The member's preference centre link, for every email's footer."""
    return page_url(settings, "preferences", sealer.preferences_token(email))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
