"""When two links are the same page, and where an item's body links are; light enough
for ``check`` to use without loading the fetching machinery."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from ..content import Item
from ..render.markdown import MarkdownLink, markdown_links


def link_key(url: str) -> str:
    """What makes two links the same page: scheme and host in any case, no fragment,
    no trailing slash."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


def body_first_line(item: Item) -> int:
    """The file line of the body's first line: the loader strips the blank lines that
    may follow the closing +++, so count them back in."""
    start = item.lines.get("body", 1)
    try:
        lines = item.path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return start
    blank = next((i for i, line in enumerate(lines[start - 1:]) if line), 0)
    return start + blank


def body_links(item: Item) -> list[MarkdownLink]:
    """The links and images written in an item's body, each at its line in the file."""
    start = body_first_line(item)
    return [replace(link, line=start + link.line) for link in markdown_links(item.body)]
