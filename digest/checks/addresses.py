"""Is there an email address in this URL, readable or encoded?

Tracking links often carry the recipient's address in plain sight
(``?email=a@b.org``), percent-encoded (``a%40b.org``) or base64-encoded. Spam filters
treat any of them as a phishing pattern, and every server and proxy on the way logs it.
"""
from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote_plus, urlsplit

_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def address_in_url(url: str, known: tuple[str, ...] = ()) -> bool:
    """True if ``url`` (other than a mailto: link) holds an address anywhere after its
    host: as written, percent-encoded, or base64/base64url-encoded; ``known`` adds
    addresses to look for in any case and in hex too."""
    parts = urlsplit(url)
    if parts.scheme.lower() == "mailto":
        return False
    rest = url[url.find(parts.netloc) + len(parts.netloc):] if parts.netloc else url
    decoded = unquote_plus(unquote_plus(rest))
    if _ADDRESS.search(decoded):
        return True
    lowered = decoded.lower()
    if any(address.lower() in lowered or address.lower().encode().hex() in lowered for address in known):
        return True
    return any(_ADDRESS.search(text) for text in _base64_texts(decoded))


def _base64_texts(text: str) -> list[str]:
    """What each base64-looking run decodes to, at every alignment (an address may be
    encoded inside a longer value); only decodings that are mostly printable text, so
    random bytes (a sealed token) are not read as an address by chance."""
    texts = []
    for run in _BASE64_RUN.findall(text):
        standard = run.replace("-", "+").replace("_", "/").rstrip("=")
        for start in range(4):
            chunk = standard[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                text = base64.b64decode(chunk, validate=True).decode("latin-1")
            except (binascii.Error, ValueError):
                continue
            if sum(" " <= c <= "~" for c in text) >= 0.9 * len(text):
                texts.append(text)
    return texts
