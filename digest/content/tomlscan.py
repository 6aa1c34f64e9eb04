"""Where things are in the text of issue.toml: the ``[[sections]]`` tables, a key's
value, and each file name of an ``items = [...]`` array with its line and comment.

The editor (``tomledit.py``) changes the text at these places and nowhere else, so
every comment and the editor's own layout survive. The scanner knows TOML strings and
comments; anything it does not understand is refused, never guessed at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ContentError

_SECTION_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*sections[ \t]*\]\][ \t]*(#.*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)
_TRAILER = re.compile(r"[ \t]*(,)?[ \t]*(#[^\n]*)?(\n|\Z)")


@dataclass(frozen=True)
class Element:
    """One quoted file name in an items array."""

    start: int
    end: int
    line: int  # 1-based
    own_line: bool  # alone on its line, apart from a comma and a comment
    line_start: int  # where its line begins
    line_end: int  # just past its line's newline
    comment: str  # the comment after it on its line, when it has the line to itself


@dataclass(frozen=True)
class Array:
    """An ``items = [...]`` array: where it opens and closes, and its elements."""

    open: int
    close: int
    elements: tuple[Element, ...]
    multiline: bool  # spread over lines (one element a line), not all on one


def section_spans(text: str, count: int, path: Path) -> list[tuple[int, int]]:
    """(start, end) of each ``[[sections]]`` table's body; ``count`` is how many the
    parsed TOML has, and a mismatch (inline tables, say) is refused."""
    headers = list(_SECTION_HEADER.finditer(text))
    if len(headers) != count:
        raise ContentError("can only edit sections written as [[sections]] tables", path)
    spans = []
    for header in headers:
        following = _ANY_HEADER.search(text, header.end() + 1)
        spans.append((header.end(), following.start() if following else len(text)))
    return spans


def key_value(text: str, span: tuple[int, int], key: str) -> re.Match[str] | None:
    """The ``key = `` assignment inside ``span`` (its match ends where the value starts)."""
    pattern = re.compile(rf"^[ \t]*{re.escape(key)}[ \t]*=[ \t]*", re.MULTILINE)
    return pattern.search(text, span[0], span[1])


def items_array(text: str, span: tuple[int, int], path: Path) -> Array | None:
    """The items array of the section whose body is ``span``, or None if it has none."""
    match = key_value(text, span, "items")
    if match is None:
        return None
    if not text.startswith("[", match.end()):
        raise ContentError("items must be an array written as items = [...]", path)
    return scan_array(text, match.end(), path)


def scan_array(text: str, open_pos: int, path: Path) -> Array:
    """The array opening at ``open_pos``: its quoted elements and its closing bracket."""
    elements: list[Element] = []
    i = open_pos + 1
    while i < len(text):
        ch = text[i]
        if ch == "#":
            i = _line_end(text, i)
        elif ch in " \t\r\n,":
            i += 1
        elif ch == "]":
            return Array(open_pos, i, tuple(elements), "\n" in text[open_pos:i])
        elif ch in "\"'":
            end = string_end(text, i, path)
            elements.append(_element(text, i, end))
            i = end
        else:
            raise ContentError("can only edit an items array of quoted file names", path, _line_of(text, i))
    raise ContentError("items array is never closed with ]", path)


def _element(text: str, start: int, end: int) -> Element:
    line_start = text.rfind("\n", 0, start) + 1
    trailer = _TRAILER.match(text, end)
    own_line = not text[line_start:start].strip() and trailer is not None
    line_end = trailer.end() if own_line and trailer else _line_end(text, end)
    comment = (trailer.group(2) or "") if own_line and trailer else ""
    return Element(start, end, _line_of(text, start), own_line, line_start, line_end, comment)


def string_end(text: str, start: int, path: Path) -> int:
    """Just past the TOML string that opens at ``start`` (basic, literal or multi-line)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        if end < 0:
            raise ContentError("unterminated string in issue.toml", path, _line_of(text, start))
        return end + 3
    i = start + 1
    while i < len(text) and text[i] != quote and text[i] != "\n":
        i += 2 if quote == '"' and text[i] == "\\" else 1
    if i >= len(text) or text[i] != quote:
        raise ContentError("unterminated string in issue.toml", path, _line_of(text, start))
    return i + 1


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end + 1


def _line_of(text: str, i: int) -> int:
    return text.count("\n", 0, i) + 1
