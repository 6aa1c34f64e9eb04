"""Editing issue.toml (and item front matter) as text, never re-serialising.

tomllib cannot write, and a round trip through any TOML writer would drop the editor's
comments and layout. So each edit changes only the characters it must, at places the
scanner in ``tomlscan.py`` found: a name added to or removed from an ``items = [...]``
array in that array's own style, a section's title replaced, a ``draft = true`` line
dropped. Every edit re-parses its result and proves that exactly the intended change
was made before anything is written; what it cannot prove it refuses.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from ..errors import ContentError
from .files import create_exclusive, write_atomic
from .tomlerrors import explain
from .tomlscan import Array, items_array, key_value, section_spans, string_end

__all__ = ["append_items", "create_exclusive", "insert_items", "remove_item", "remove_key", "retitle_section",
           "section_items", "section_titles", "toml_string", "write_atomic"]

_REFUSAL = "could not {} without changing anything else; edit issue.toml by hand"


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


def parse(text: str, path: Path, first_line: int = 1) -> dict[str, Any]:
    """The TOML data, or a ContentError in plain words at the offending line (counting
    the first line of ``text`` as ``first_line``)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = explain(exc, text, first_line)
        raise ContentError(message, path, line) from None


def _sections(text: str, path: Path) -> list[dict[str, Any]]:
    sections = parse(text, path).get("sections", [])
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise ContentError("sections must be an array of tables ([[sections]])", path)
    return sections


def section_titles(text: str, path: Path) -> list[str]:
    """Titles of the issue's sections, in order."""
    return [str(s.get("title", "")) for s in _sections(text, path)]


def section_items(text: str, path: Path) -> list[list[str]]:
    """The item file names of each section, in order."""
    return [[str(n) for n in s.get("items", [])] if isinstance(s.get("items", []), list) else [] for s in _sections(text, path)]


def _crlf_safe(edit: Callable[..., str]) -> Callable[..., str]:
    """Edit CRLF text as LF and give it back with its CRLF line endings."""
    def wrapper(text: str, *args: Any) -> str:
        if "\r\n" in text:
            return edit(text.replace("\r\n", "\n"), *args).replace("\n", "\r\n")
        return edit(text, *args)

    wrapper.__doc__ = edit.__doc__
    return wrapper


@_crlf_safe
def append_items(text: str, section: str | None, names: list[str], path: Path) -> str:
    """``text`` with ``names`` appended to the items of the section titled ``section``
    (default: the last section; a new section at the end if no section has that title)."""
    titles = section_titles(text, path)
    if section is None:
        if not titles:
            raise ContentError("issue.toml has no [[sections]]; name one with --section", path)
        return insert_items(text, len(titles) - 1, names, None, path)
    if section in titles:
        return insert_items(text, titles.index(section), names, None, path)
    new_text = _new_section(text, section, names)
    expected = parse(text, path)
    expected.setdefault("sections", []).append({"title": section, "items": list(names)})
    return _proved(new_text, expected, "add the section", path)


@_crlf_safe
def insert_items(text: str, index: int, names: list[str], position: int | None, path: Path,
                 comments: dict[str, str] | None = None) -> str:
    """``names`` inserted into section ``index``'s items before the item at ``position``
    (0-based; None: at the end). ``comments`` gives a name the comment to carry on its
    line; where the array is written on one line, the comment goes on a line above it."""
    comments = {n: c for n, c in (comments or {}).items() if c and n in names}
    expected = parse(text, path)
    items = expected["sections"][index].setdefault("items", [])
    at = len(items) if position is None else max(0, min(position, len(items)))
    items[at:at] = names
    span = section_spans(text, len(expected["sections"]), path)[index]
    array = items_array(text, span, path)
    inline = array is not None and array.multiline and (at == len(array.elements) or array.elements[at].own_line)
    notes = "" if inline else "".join(f"# {n}: {comments[n].lstrip('#').strip()}\n" for n in names if n in comments)
    if array is None:
        new_text = text[:span[0]] + "\n" + notes + "items = [" + ", ".join(toml_string(n) for n in names) + "]" + text[span[0]:]
    else:
        new_text = (_insert_before if at < len(array.elements) else _append)(text, array, at, names, comments)
        if notes:
            line_start = new_text.rfind("\n", 0, array.open) + 1
            new_text = new_text[:line_start] + notes + new_text[line_start:]
    return _proved(new_text, expected, "add to the items array", path)


@_crlf_safe
def remove_item(text: str, index: int, name: str, path: Path) -> str:
    """``text`` without ``name`` in section ``index``'s items; a name alone on its line
    goes with that line, its comment included."""
    expected = parse(text, path)
    items = expected["sections"][index].get("items", [])
    array = items_array(text, section_spans(text, len(expected["sections"]), path)[index], path)
    if array is None or name not in items:
        raise ContentError(f"{name} is not listed in section {index + 1}", path)
    at = items.index(name)
    items.pop(at)
    element = array.elements[at]
    if element.own_line and array.multiline:
        new_text = text[:element.line_start] + text[element.line_end:]
    else:
        following = array.elements[at + 1] if at + 1 < len(array.elements) else None
        previous = array.elements[at - 1] if at > 0 else None
        start, end = ((element.start, following.start) if following else
                      (previous.end, element.end) if previous else
                      (element.start, _after_comma(text, element.end)))
        if "#" in text[start:end].replace(text[element.start:element.end], ""):
            raise ContentError(_REFUSAL.format(f"remove {name}"), path)
        new_text = text[:start] + text[end:]
    return _proved(new_text, expected, f"remove {name}", path)


def item_comment(text: str, index: int, name: str, path: Path) -> str:
    """The comment on the line of ``name`` in section ``index`` (when it has its own line)."""
    sections = _sections(text, path)
    array = items_array(text.replace("\r\n", "\n"), section_spans(text.replace("\r\n", "\n"), len(sections), path)[index], path)
    items = [str(n) for n in sections[index].get("items", [])]
    if array is None or name not in items:
        return ""
    return array.elements[items.index(name)].comment


@_crlf_safe
def retitle_section(text: str, index: int, title: str, path: Path) -> str:
    """``text`` with section ``index`` titled ``title`` (the rest of its line kept)."""
    expected = parse(text, path)
    expected["sections"][index]["title"] = title
    span = section_spans(text, len(expected["sections"]), path)[index]
    match = key_value(text, span, "title")
    if match is None:
        new_text = text[:span[0]] + f"\ntitle = {toml_string(title)}" + text[span[0]:]
    elif text[match.end():match.end() + 1] in "\"'":
        end = string_end(text, match.end(), path)
        new_text = text[:match.end()] + toml_string(title) + text[end:]
    else:
        raise ContentError(_REFUSAL.format("rename the section"), path)
    return _proved(new_text, expected, "rename the section", path)


@_crlf_safe
def remove_key(text: str, key: str, path: Path) -> str:
    """TOML ``text`` (an item's front matter) without the line assigning top-level ``key``."""
    expected = parse(text, path)
    expected.pop(key, None)
    match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=[^\n]*(\n|\Z)", text, re.MULTILINE)
    if match is None:
        raise ContentError(f"no {key} line to remove", path)
    return _proved(text[:match.start()] + text[match.end():], expected, f"remove the {key} line", path)


def _insert_before(text: str, array: Array, at: int, names: list[str], comments: dict[str, str]) -> str:
    element = array.elements[at]
    if array.multiline and element.own_line:
        indent = text[element.line_start:element.start]
        lines = "".join(f"{indent}{toml_string(n)},{_comment(comments, n)}\n" for n in names)
        return text[:element.line_start] + lines + text[element.line_start:]
    return text[:element.start] + "".join(f"{toml_string(n)}, " for n in names) + text[element.start:]


def _append(text: str, array: Array, at: int, names: list[str], comments: dict[str, str]) -> str:
    quoted = [toml_string(n) for n in names]
    open_pos, close_pos = array.open, array.close
    last = array.elements[-1] if array.elements else None
    comma_after = last is not None and text[last.end:close_pos].lstrip(" \t").startswith(",")
    if not array.multiline:
        if last is None:
            return text[:open_pos + 1] + ", ".join(quoted) + text[close_pos:]
        if comma_after:
            return text[:close_pos].rstrip(" \t") + " " + ", ".join(quoted) + "," + text[close_pos:]
        return text[:last.end] + ", " + ", ".join(quoted) + text[last.end:]
    indent = _indent(text, array)
    if last is not None and not comma_after:
        text = text[:last.end] + "," + text[last.end:]
        close_pos += 1
    lines = "".join(f"{indent}{q},{_comment(comments, n)}\n" for q, n in zip(quoted, names))
    line_start = text.rfind("\n", 0, close_pos) + 1
    if text[line_start:close_pos].strip():
        return text[:close_pos].rstrip(" \t") + "\n" + lines + text[close_pos:]
    return text[:line_start] + lines + text[line_start:]


def _indent(text: str, array: Array) -> str:
    """The indentation of a multi-line array's elements ("    " when it has none)."""
    for line in text[array.open + 1:array.close].split("\n")[1:]:
        if line.strip() and not line.strip().startswith(("#", "]")):
            return line[: len(line) - len(line.lstrip())]
    return "    "


def _comment(comments: dict[str, str], name: str) -> str:
    return f"  {comments[name]}" if comments.get(name) else ""


def _after_comma(text: str, end: int) -> int:
    match = re.match(r"[ \t]*,[ \t]*", text[end:])
    return end + match.end() if match else end


def _new_section(text: str, title: str, names: list[str]) -> str:
    items = "".join(f"    {toml_string(n)},\n" for n in names)
    separator = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
    return f"{text}{separator}[[sections]]\ntitle = {toml_string(title)}\nitems = [\n{items}]\n"


def _proved(new_text: str, expected: dict[str, Any], what: str, path: Path) -> str:
    """``new_text`` if it parses to exactly ``expected``; else a refusal."""
    try:
        if tomllib.loads(new_text) == expected:
            return new_text
    except tomllib.TOMLDecodeError:
        pass
    raise ContentError(_REFUSAL.format(what), path)
