"""When two links are the same page; light enough for ``check`` to use without
loading the fetching machinery."""
from __future__ import annotations

from urllib.parse import urlsplit


def link_key(url: str) -> str:
    """What makes two links the same page: scheme and host in any case, no fragment,
    no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"
