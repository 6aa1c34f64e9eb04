"""Appending item file names to issue.toml by editing its text, never re-serialising.

tomllib cannot write, and a round trip through any TOML writer would drop the editor's
comments and layout. So we find the ``items = [...]`` array of the right
``[[sections]]`` table with a small scanner that knows TOML strings and comments,
insert the new names in the array's own style, and re-parse the result to prove that
exactly those names were added before anything is written.
"""
from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path

from ..errors import ContentError

_SECTION_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*sections[ \t]*\]\][ \t]*(#.*)?$", re.MULTILINE)
_ITEMS_KEY = re.compile(r"^[ \t]*items[ \t]*=[ \t]*\[", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[", re.MULTILINE)


def toml_string(value: str) -> str:
    """A TOML basic string holding ``value`` exactly (quotes, backslashes and control characters escaped)."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def section_titles(text: str, path: Path) -> list[str]:
    """Titles of the issue's sections, in order."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"invalid TOML: {exc}", path) from None
    sections = data.get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise ContentError("sections must be an array of tables ([[sections]])", path)
    return [str(s.get("title", "")) for s in sections]


def append_items(text: str, section: str | None, names: list[str], path: Path) -> str:
    """``text`` with ``names`` appended to the items of the section titled ``section``
    (default: the last section; a new section at the end if no section has that title).
    CRLF line endings are kept."""
    if "\r\n" in text:
        return append_items(text.replace("\r\n", "\n"), section, names, path).replace("\n", "\r\n")
    titles = section_titles(text, path)
    if section is None:
        if not titles:
            raise ContentError("issue.toml has no [[sections]]; name one with --section", path)
        index = len(titles) - 1
    elif section in titles:
        index = titles.index(section)
    else:
        index = None
    new_text = _insert_into_section(text, index, names, path) if index is not None else _new_section(text, section or "", names)
    _verify(text, new_text, len(titles) if index is None else index, section or "", names, path)
    return new_text


def _insert_into_section(text: str, index: int, names: list[str], path: Path) -> str:
    headers = list(_SECTION_HEADER.finditer(text))
    if len(headers) != len(section_titles(text, path)):
        raise ContentError("can only add to sections written as [[sections]] tables", path)
    start = headers[index].end()
    following = _ANY_HEADER.search(text, start + 1)
    end = following.start() if following else len(text)
    match = _ITEMS_KEY.search(text, start, end)
    if match is None:
        return text[:start] + "\nitems = [" + ", ".join(toml_string(n) for n in names) + "]" + text[start:]
    open_pos = match.end() - 1
    last_value_end, comma_after, close_pos = _scan_array(text, open_pos, path)
    indent = _element_indent(text, open_pos, close_pos)
    quoted = [toml_string(n) for n in names]
    if last_value_end is None:
        if indent is None:
            return text[:open_pos + 1] + ", ".join(quoted) + text[close_pos:]
    elif indent is None:
        if comma_after:
            return text[:close_pos].rstrip(" \t") + " " + ", ".join(quoted) + "," + text[close_pos:]
        return text[:last_value_end] + ", " + ", ".join(quoted) + text[last_value_end:]
    elif not comma_after:
        text = text[:last_value_end] + "," + text[last_value_end:]
        close_pos += 1
    lines = "".join(f"{indent}{q},\n" for q in quoted)
    line_start = text.rfind("\n", 0, close_pos) + 1
    if text[line_start:close_pos].strip():
        return text[:close_pos].rstrip(" \t") + "\n" + lines + text[close_pos:]
    return text[:line_start] + lines + text[line_start:]


def _scan_array(text: str, open_pos: int, path: Path) -> tuple[int | None, bool, int]:
    """From the ``[`` at ``open_pos``: end of the last value, whether a comma follows it,
    and the position of the matching ``]``. Knows strings, comments and nesting."""
    depth = 0
    last_value_end: int | None = None
    comma_after = False
    i = open_pos
    while i < len(text):
        ch = text[i]
        if ch == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        if ch in "\"'":
            i = _string_end(text, i, path)
            if depth == 1:
                last_value_end, comma_after = i, False
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return last_value_end, comma_after, i
        elif ch == "," and depth == 1:
            comma_after = True
        i += 1
    raise ContentError("items array is never closed with ]", path)


def _string_end(text: str, start: int, path: Path) -> int:
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        if end < 0:
            raise ContentError("unterminated string in issue.toml", path)
        return end + 3
    i = start + 1
    while i < len(text) and text[i] != quote and text[i] != "\n":
        i += 2 if quote == '"' and text[i] == "\\" else 1
    if i >= len(text) or text[i] != quote:
        raise ContentError("unterminated string in issue.toml", path)
    return i + 1


def _element_indent(text: str, open_pos: int, close_pos: int) -> str | None:
    """The indentation of a multi-line array's elements, or None for a one-line array."""
    body = text[open_pos + 1:close_pos]
    if "\n" not in body:
        return None
    for line in body.split("\n")[1:]:
        if line.strip() and not line.strip().startswith(("#", "]")):
            return line[: len(line) - len(line.lstrip())]
    return "    "


def _new_section(text: str, title: str, names: list[str]) -> str:
    items = "".join(f"    {toml_string(n)},\n" for n in names)
    separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    return f"{text}{separator}[[sections]]\ntitle = {toml_string(title)}\nitems = [\n{items}]\n"


def _verify(old: str, new: str, index: int, title: str, names: list[str], path: Path) -> None:
    """Refuse to write unless the edit added exactly ``names`` to section ``index``."""
    expected = tomllib.loads(old)
    sections = expected.setdefault("sections", [])
    if index == len(sections):
        sections.append({"title": title, "items": []})
    sections[index]["items"] = [*sections[index].get("items", []), *names]
    if _loads_or_none(new) != expected:
        raise ContentError("could not add to the items array without changing anything else; add the item by hand", path)


def _loads_or_none(text: str) -> dict | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _write_temporary(path: Path, text: str, mode: int) -> str:
    """Write ``text`` to a synced temporary file beside ``path``; return its name."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and ``os.replace``: all or nothing."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    temporary = _write_temporary(path, text, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_exclusive(path: Path, text: str) -> None:
    """Write a new file completely, or not at all; never replace an existing one."""
    temporary = _write_temporary(path, text, 0o644)
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise ContentError("already exists; not overwriting it", path) from None
    finally:
        Path(temporary).unlink(missing_ok=True)
