"""Address, display-name and header-value checks done up front, before any MIME is built.

The stdlib's own CR/LF check had holes (CVE-2024-6923, fixed in 3.11.10), and it writes
non-ASCII local parts as RFC 2047 words, which RFC 2047 forbids and SES/Resend reject;
so we validate ourselves and fail early with a clear message.

Domains are encoded with IDNA 2008 and the UTS 46 mapping (the ``idna`` package). The
stdlib's ``"idna"`` codec is IDNA 2003, which maps ``straße.de`` to ``strasse.de`` (a
different domain) and silently drops a zero-width joiner; here such a domain is either
encoded as itself (``xn--strae-oqa.de``) or refused, never mapped to another domain.
"""
from __future__ import annotations

import functools
import re

import idna

from .errors import HeaderError

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_FORBIDDEN_IN_HEADERS = re.compile(r"[\r\n\x00]")
# Line and paragraph separators and C0/C1 controls: some mail software breaks lines at them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
MAX_NAME_CHARS = 200


def check_header_value(name: str, value: str) -> str:
    """Return ``value`` unchanged, or raise HeaderError if it could inject a header."""
    if _FORBIDDEN_IN_HEADERS.search(value):
        raise HeaderError(f"{name} must not contain line breaks or NUL characters: {value!r}")
    return value


def control_character(value: str) -> str | None:
    """The first control character in ``value`` as ``U+XXXX``, or None (tab counts too)."""
    match = _CONTROL.search(value)
    return f"U+{ord(match.group()):04X}" if match else None


def clean_display_name(name: str) -> str:
    """A member's name fit for a ``To`` header, never sent raw: NUL, CR and LF are
    refused (HeaderError); other white space (tab, vertical tab, form feed, U+2028...)
    becomes one space; any other control character, and an RFC 2047 encoded word that
    decodes to one, is refused."""
    if len(name) > MAX_NAME_CHARS:
        raise HeaderError(f"name is longer than {MAX_NAME_CHARS} characters")
    refused = _FORBIDDEN_IN_HEADERS.search(name)
    if refused:
        raise HeaderError(f"name contains the control character U+{ord(refused.group()):04X}")
    cleaned = _SPACES.sub(" ", name).strip() if not name.isalnum() else name
    found = control_character(cleaned)
    if found:
        raise HeaderError(f"name contains the control character {found}")
    if not cleaned.isascii() and _SURROGATE.search(cleaned):
        raise HeaderError("name is not valid UTF-8")
    if _ENCODED_WORD.search(cleaned):
        _check_encoded_words(cleaned)
    return cleaned


def _check_encoded_words(name: str) -> None:
    """A name written as RFC 2047 encoded words is decoded by mail software (and by the
    stdlib when it folds the header), so what it decodes to must be clean too."""
    from email.header import decode_header, make_header

    try:
        decoded = str(make_header(decode_header(name)))
    except (LookupError, UnicodeError, ValueError):
        raise HeaderError("name holds an RFC 2047 encoded word that cannot be decoded") from None
    found = control_character(decoded)
    if found:
        raise HeaderError(f"name holds an RFC 2047 encoded word that decodes to the control character {found}")


def normalise_address(address: str) -> str:
    """A valid address with an IDNA 2008-encoded, lower-cased domain; HeaderError otherwise."""
    check_header_value("address", address)
    text = address.strip()
    found = control_character(text)
    if found:
        raise HeaderError(f"not an email address (contains the control character {found}): {address!r}")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise HeaderError(f"not an email address: {address!r}")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise HeaderError(f"not an email address (local part must be plain ASCII): {address!r}")
    ascii_domain, problem = _ascii_domain(domain)
    if ascii_domain is None:
        raise HeaderError(f"not an email address ({problem}): {address!r}")
    return f"{local}@{ascii_domain}"


@functools.lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> tuple[str | None, str]:
    """(the A-label form of ``domain``, "") or (None, why not). Cached: a members file
    holds a million addresses but few domains."""
    if domain.isascii():
        ascii_domain = domain.lower()
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError) as exc:
            return None, f"the domain cannot be encoded under IDNA 2008: {exc}"
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or len(ascii_domain) > 253:
        return None, "bad domain"
    if any(label.startswith("xn--") for label in labels):
        try:
            idna.decode(ascii_domain)
        except (idna.IDNAError, UnicodeError):
            return None, "the domain's xn-- label is not valid IDNA 2008"
    return ascii_domain, ""


def is_valid_address(address: str) -> bool:
    try:
        normalise_address(address)
    except HeaderError:
        return False
    return True
