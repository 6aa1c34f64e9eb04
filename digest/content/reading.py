"""Reading issue files: UTF-8 text, TOML with line numbers, ``+++`` front matter, and a
reporter that raises on the first error or collects every finding.

Shared by the issue loader and the translation loader, so both report mistakes the
same way: the file and the line an editor can jump to.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ContentError
from .model import Finding
from .tomlerrors import explain

FRONT_MATTER_FENCE = "+++"


class Reporter:
    """Raises on the first error, or collects findings when asked to keep going."""

    def __init__(self, findings: list[Finding] | None):
        self.findings = findings

    def error(self, message: str, path: Path, line: int | None = None) -> None:
        if self.findings is None:
            raise ContentError(message, path, line)
        self.findings.append(Finding("error", message, path, line))

    def warning(self, message: str, path: Path, line: int | None = None) -> None:
        if self.findings is not None:
            self.findings.append(Finding("warning", message, path, line))


@dataclass(frozen=True)
class FrontMatter:
    """An item file split: its TOML data, the line of each key, and the Markdown body."""

    data: dict[str, Any]
    lines: dict[str, int]
    body: str


def read_front_matter(path: Path, report: Reporter) -> FrontMatter | None:
    """``+++`` TOML front matter, then a Markdown body; None (after reporting) if unreadable."""
    try:
        text = read_text(path)
    except ContentError as exc:
        report.error(exc.message, path, exc.line)
        return None
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        report.error(f"item must start with a {FRONT_MATTER_FENCE} line opening its TOML front matter", path, 1)
        return None
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        report.error(f"front matter opened on line 1 is never closed with {FRONT_MATTER_FENCE}", path, 1)
        return None
    front = "\n".join(lines[1:close])
    try:
        data = parse_toml(front, path, first_line=2)
    except ContentError as exc:
        report.error(exc.message, path, exc.line)
        return None
    key_lines = {k: v + 1 for k, v in key_lines_of(front).items()}
    key_lines["body"] = close + 2
    return FrontMatter(data, key_lines, "\n".join(lines[close + 1:]).strip("\n"))


def table_key_lines(text: str, table: str) -> dict[str, int]:
    """Line numbers of the keys of top-level table ``[table]``, or of ``table.key = ...``
    dotted keys before the first table header."""
    found: dict[str, int] = {}
    inside = seen_header = False
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            seen_header = True
            inside = bool(header.match(line))
            if inside:
                found.setdefault("", number)
            continue
        if inside:
            match = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        elif not seen_header:
            match = re.match(rf"\s*{re.escape(table)}\s*\.\s*([A-Za-z0-9_-]+)\s*=", line)
        else:
            continue
        if match:
            found.setdefault(match.group(1), number)
            found.setdefault("", number)
    return found


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContentError("file not found", path) from None
    except OSError as exc:
        raise ContentError(f"cannot read ({exc.strerror})", path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContentError("not valid UTF-8", path, line) from None


def parse_toml(text: str, path: Path, first_line: int) -> dict[str, Any]:
    """The TOML data, or a ContentError in plain words (``tomlerrors.py``) at the file's line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = explain(exc, text, first_line)
        raise ContentError(message, path, line) from None


def key_lines_of(text: str) -> dict[str, int]:
    """Line numbers of top-level ``key = ...`` assignments, for error messages."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            break
        match = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if match:
            found.setdefault(match.group(1), number)
    found.setdefault("sections", line_containing(text, "[[sections]]") or 1)
    return found


def line_containing(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def report_unknown_keys(data: dict[str, Any], allowed: set[str], path: Path, lines: dict[str, int],
                        report: Reporter) -> None:
    """An error at each front-matter key the file may not have, listing those it may."""
    for key in data:
        if key not in allowed:
            report.error(f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})", path, lines.get(key))


def typed_getter(data: dict[str, Any], path: Path, lines: dict[str, int], report: Reporter) -> Callable[[str, type, Any], Any]:
    def get(key: str, kind: type, default: Any) -> Any:
        value = data.get(key, default)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            report.error(f"{key} must be a {_TYPE_NAMES.get(kind, kind.__name__)}", path, lines.get(key))
            return default
        return value

    return get


_TYPE_NAMES = {str: "string", bool: "boolean (true or false)", list: "list"}


def as_date(value: Any, path: Path, line: int | None, report: Reporter) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    report.error(f"date must be a date like 2015-10-30, got {value!r}", path, line)
    return dt.date(1970, 1, 1)
