"""Address and header-value checks done up front, before any MIME is built.

The stdlib's own CR/LF check had holes (CVE-2024-6923, fixed in 3.11.10), and it writes
non-ASCII local parts as RFC 2047 words, which RFC 2047 forbids and SES/Resend reject;
so we validate ourselves and fail early with a clear message.
"""
from __future__ import annotations

import functools
import re

from .errors import HeaderError

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_FORBIDDEN_IN_HEADERS = re.compile(r"[\r\n\x00]")


def check_header_value(name: str, value: str) -> str:
    """Return ``value`` unchanged, or raise HeaderError if it could inject a header."""
    if _FORBIDDEN_IN_HEADERS.search(value):
        raise HeaderError(f"{name} must not contain line breaks or NUL characters: {value!r}")
    return value


def normalise_address(address: str) -> str:
    """A valid address with an IDNA-encoded, lower-cased domain; HeaderError otherwise."""
    check_header_value("address", address)
    text = address.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise HeaderError(f"not an email address: {address!r}")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise HeaderError(f"not an email address (local part must be plain ASCII): {address!r}")
    ascii_domain = _ascii_domain(domain)
    if ascii_domain is None:
        raise HeaderError(f"not an email address (bad domain): {address!r}")
    return f"{local}@{ascii_domain}"


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    """The IDNA-encoded, lower-cased domain, or None if invalid. Cached: a members file
    holds a million addresses but few domains."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or len(ascii_domain) > 253:
        return None
    return ascii_domain


def is_valid_address(address: str) -> bool:
    try:
        normalise_address(address)
    except HeaderError:
        return False
    return True
