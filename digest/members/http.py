"""Requests and responses for the members' pages, with the safety every answer carries.

Every response says ``no-store`` (pages hold tokens and addresses), ``no-referrer`` (so
a token in the URL never leaks to another site), a Content-Security-Policy that allows
nothing but our own form posts and one nonce-marked stylesheet, and ``nosniff``. Forms
are CSRF-safe by double submit: a random ``SameSite=Lax`` cookie and a hidden field
that must be the HMAC of it, plus a refusal of anything the browser marks cross-site.
"""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

MAX_BODY_BYTES = 16 * 1024
CSRF_COOKIE = "digest_csrf"
StartResponse = Callable[..., Any]


class BodyTooLarge(ValueError):
    """The request body is larger than any of our forms can be."""


@dataclass
class Request:
    """The parts of a WSGI request the pages use."""

    environ: dict[str, Any]
    trust_forwarded: bool = False

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET").upper()

    @property
    def path(self) -> str:
        return (self.environ.get("SCRIPT_NAME", "") + self.environ.get("PATH_INFO", "")).rstrip("/") or "/"

    @cached_property
    def query(self) -> dict[str, str]:
        return _single(parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True))

    @cached_property
    def form(self) -> dict[str, str]:
        """The form-encoded POST body; BodyTooLarge past ``MAX_BODY_BYTES``."""
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge(length)
        body = self.environ["wsgi.input"].read(length) if length > 0 else b""
        return _single(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))

    @cached_property
    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(self.environ.get("HTTP_COOKIE", ""))
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    @property
    def accept_language(self) -> str:
        return self.environ.get("HTTP_ACCEPT_LANGUAGE", "")

    @property
    def secure(self) -> bool:
        return self.environ.get("wsgi.url_scheme") == "https"

    @property
    def cross_site(self) -> bool:
        """True when the browser says another site made this request (Fetch Metadata)."""
        return self.environ.get("HTTP_SEC_FETCH_SITE", "") == "cross-site"

    @property
    def client_ip(self) -> str:
        """The peer's address, or behind a trusted proxy the hop it appended to X-Forwarded-For."""
        if self.trust_forwarded:
            hops = [hop.strip() for hop in self.environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
            if hops:
                return hops[-1]
        return self.environ.get("REMOTE_ADDR", "")

    @cached_property
    def csrf_cookie(self) -> str:
        """The browser's CSRF cookie if it has a well-formed one, else a new random one."""
        value = self.cookies.get(CSRF_COOKIE, "")
        return value if len(value) == 32 and value.isalnum() else secrets.token_hex(16)

    @property
    def has_csrf_cookie(self) -> bool:
        return self.cookies.get(CSRF_COOKIE, "") == self.csrf_cookie


@dataclass
class Response:
    status: str
    body: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    nonce: str = ""
    language: str = ""

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        body = self.body.encode("utf-8")
        style = f"'nonce-{self.nonce}'" if self.nonce else "'none'"
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy",
             f"default-src 'none'; style-src {style}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            *([("Content-Language", self.language)] if self.language else []),
            *self.headers,
        ]
        start_response(self.status, headers)
        return [body]


def csrf_cookie_header(request: Request) -> list[tuple[str, str]]:
    """``Set-Cookie`` for the CSRF cookie when the browser does not hold it yet."""
    if request.has_csrf_cookie:
        return []
    secure = "; Secure" if request.secure else ""
    return [("Set-Cookie", f"{CSRF_COOKIE}={request.csrf_cookie}; Path=/; HttpOnly; SameSite=Lax{secure}")]


def client_key(ip: str) -> str:
    """What the per-IP limit counts: the address, or an IPv6 client's /64 (one host's share)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6 and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    """The first value of each field: a repeated field cannot smuggle a second value."""
    return {key: items[0] for key, items in values.items()}
