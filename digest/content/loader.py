"""The reader that builds the content model (Issue, Section, Item) from files.

An issue is a folder: ``issue.toml`` lists the sections and their item files in order;
each item is Markdown with ``+++``-fenced TOML front matter. Every problem is reported
with the file and line, so an editor can jump straight to it. The reader either raises
on the first error (build) or collects every finding (check).
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from ..errors import ContentError
from .model import Finding, Issue, Item, Section
from .tomlerrors import explain
from .tomlscan import items_array, section_spans

ISSUE_FILE = "issue.toml"
FRONT_MATTER_FENCE = "+++"

ISSUE_KEYS = {"title", "date", "subject", "preheader", "intro", "draft", "sections"}
ISSUE_REQUIRED = ("title", "date", "subject", "sections")
SECTION_KEYS = {"title", "intro", "items"}
ITEM_KEYS = {"title", "link", "image", "image_alt", "date", "tags", "draft"}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.md$")


class _Reporter:
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


def load_issue(folder: str | Path, findings: list[Finding] | None = None) -> Issue:
    """Read an issue folder. With ``findings`` given, collect problems instead of raising
    on the recoverable ones (a missing issue.toml or a TOML syntax error always raises)."""
    folder = Path(folder)
    report = _Reporter(findings)
    issue_path = folder / ISSUE_FILE
    if not folder.is_dir():
        raise ContentError("not an issue folder (no such directory)", folder)
    text = _read_text(issue_path)
    data = _parse_toml(text, issue_path, first_line=1)
    lines = _key_lines(text)

    for key in data:
        if key not in ISSUE_KEYS:
            report.error(f"unknown key {key!r} (allowed: {', '.join(sorted(ISSUE_KEYS))})", issue_path, lines.get(key))
    for key in ISSUE_REQUIRED:
        if key not in data:
            report.error(f"missing required key {key!r}", issue_path, 1)

    get = _typed_getter(data, issue_path, lines, report)
    title = get("title", str, "")
    subject = get("subject", str, "")
    for key, value in (("title", title), ("subject", subject)):
        if key in data and not value.strip():
            report.error(f"{key} is empty", issue_path, lines.get(key))
    date = _as_date(data.get("date"), issue_path, lines.get("date"), report) if "date" in data else dt.date(1970, 1, 1)
    issue = Issue(
        slug=folder.resolve().name,
        path=folder,
        title=title,
        date=date,
        subject=subject,
        preheader=get("preheader", str, ""),
        intro=get("intro", str, ""),
        draft=get("draft", bool, False),
        sections=_load_sections(folder, data.get("sections", []), issue_path, text, report),
        lines=lines,
    )
    _report_unlisted_items(folder, _listed_names(data.get("sections", [])), report)
    return issue


def _load_sections(folder: Path, raw: Any, issue_path: Path, text: str, report: _Reporter) -> tuple[Section, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        report.error("sections must be an array of tables ([[sections]])", issue_path, _key_lines(text).get("sections"))
        return ()
    if not raw:
        report.error("the issue has no sections", issue_path, 1)
    section_lines = [i + 1 for i, line in enumerate(text.splitlines()) if line.strip() == "[[sections]]"]
    name_lines = _name_lines(text, len(raw), issue_path)
    seen: dict[str, int] = {}
    sections = []
    for index, entry in enumerate(raw):
        line = section_lines[index] if index < len(section_lines) else None
        for key in entry:
            if key not in SECTION_KEYS:
                report.error(f"unknown key {key!r} in section {index + 1} (allowed: {', '.join(sorted(SECTION_KEYS))})", issue_path, line)
        names = entry.get("items", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            report.error(f"items of section {index + 1} must be a list of file names", issue_path, line)
            names = []
        if not names:
            report.error(f"section {index + 1} lists no items", issue_path, line)
        items = []
        for position, name in enumerate(names):
            item_line = _at(name_lines, index, position) or _line_containing(text, f'"{name}"') or line
            if not _SAFE_NAME.match(name):
                report.error(f"item {name!r} must be a file name in this folder ending in .md", issue_path, item_line)
                continue
            if name in seen:
                report.error(f"item {name!r} is listed twice (first on line {seen[name]})", issue_path, item_line)
                continue
            seen[name] = item_line or 0
            item_path = folder / name
            if not item_path.is_file():
                report.error(f"item {name!r} is listed but {item_path} does not exist", issue_path, item_line)
                continue
            item = load_item(item_path, report.findings)
            if item is not None:
                items.append(item)
        title = entry.get("title", "")
        if not isinstance(title, str):
            report.error(f"title of section {index + 1} must be a string", issue_path, line)
            title = ""
        sections.append(Section(title=title, items=tuple(items), intro=str(entry.get("intro", ""))))
    return tuple(sections)


def _listed_names(raw: Any) -> set[str]:
    """Every name issue.toml lists, whether or not its file loaded."""
    sections = raw if isinstance(raw, list) else []
    return {n for s in sections if isinstance(s, dict) and isinstance(s.get("items"), list) for n in s["items"] if isinstance(n, str)}


def _name_lines(text: str, count: int, path: Path) -> list[list[int]]:
    """The line of each name in each section's items array, where the scanner can tell."""
    try:
        spans = section_spans(text.replace("\r\n", "\n"), count, path)
        arrays = [items_array(text.replace("\r\n", "\n"), span, path) for span in spans]
    except ContentError:
        return []
    return [[e.line for e in array.elements] if array else [] for array in arrays]


def _at(lines: list[list[int]], section: int, position: int) -> int | None:
    return lines[section][position] if section < len(lines) and position < len(lines[section]) else None


def _report_unlisted_items(folder: Path, listed: set[str], report: _Reporter) -> None:
    for path in sorted(folder.glob("*.md")):
        if path.name not in listed and path.name.lower() != "readme.md":
            report.warning("item file is not listed in any section of issue.toml", path, 1)


def load_item(path: Path, findings: list[Finding] | None = None) -> Item | None:
    """Read one item file: ``+++`` TOML front matter, then a Markdown body."""
    report = _Reporter(findings)
    try:
        text = _read_text(path)
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
        data = _parse_toml(front, path, first_line=2)
    except ContentError as exc:
        report.error(exc.message, path, exc.line)
        return None
    key_lines = {k: v + 1 for k, v in _key_lines(front).items()}
    for key in data:
        if key not in ITEM_KEYS:
            report.error(f"unknown key {key!r} (allowed: {', '.join(sorted(ITEM_KEYS))})", path, key_lines.get(key))
    get = _typed_getter(data, path, key_lines, report)
    title = get("title", str, "")
    if not title.strip():
        report.error("missing required key 'title'" if "title" not in data else "title is empty", path, key_lines.get("title", 1))
    tags = get("tags", list, [])
    if not all(isinstance(t, str) for t in tags):
        report.error("tags must be a list of strings", path, key_lines.get("tags"))
        tags = []
    body = "\n".join(lines[close + 1:]).strip("\n")
    key_lines["body"] = close + 2
    return Item(
        slug=path.stem,
        path=path,
        title=title.strip(),
        body=body,
        link=get("link", str, "").strip(),
        image=get("image", str, "").strip(),
        image_alt=get("image_alt", str, "").strip(),
        date=_as_date(data["date"], path, key_lines.get("date"), report) if "date" in data else None,
        tags=tuple(tags),
        draft=get("draft", bool, False),
        lines=key_lines,
    )


def _read_text(path: Path) -> str:
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


def _parse_toml(text: str, path: Path, first_line: int) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line = explain(exc, text, first_line)
        raise ContentError(message, path, line) from None


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of top-level ``key = ...`` assignments, for error messages."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("["):
            break
        match = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", line)
        if match:
            found.setdefault(match.group(1), number)
    found.setdefault("sections", _line_containing(text, "[[sections]]") or 1)
    return found


def _line_containing(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _typed_getter(data: dict[str, Any], path: Path, lines: dict[str, int], report: _Reporter) -> Callable[[str, type, Any], Any]:
    def get(key: str, kind: type, default: Any) -> Any:
        value = data.get(key, default)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            report.error(f"{key} must be a {_TYPE_NAMES.get(kind, kind.__name__)}", path, lines.get(key))
            return default
        return value

    return get


_TYPE_NAMES = {str: "string", bool: "boolean (true or false)", list: "list"}


def _as_date(value: Any, path: Path, line: int | None, report: _Reporter) -> dt.date:
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
