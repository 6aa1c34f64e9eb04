"""The reader that builds the content model (Issue, Section, Item) from files.

An issue is a folder: ``issue.toml`` lists the sections and their item files in order;
each item is Markdown with ``+++``-fenced TOML front matter. An issue in several
languages also has text per language and item translations (``translations.py``
reads those). Every problem is reported
with the file and line, so an editor can jump straight to it. The reader either raises
on the first error (build) or collects every finding (check).
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from ..errors import ContentError
from .model import Finding, Issue, Item, Section
from .reading import FRONT_MATTER_FENCE, Reporter as _Reporter, as_date as _as_date, key_lines_of as _key_lines
from .reading import line_containing as _line_containing, parse_toml as _parse_toml, read_front_matter
from .reading import read_text as _read_text, report_unknown_keys, table_key_lines, typed_getter as _typed_getter
from .tomlscan import items_array, section_spans
from .translations import (ISSUE_TEXT_KEYS, SECTION_TEXT_KEYS, language_key_hint, read_language_text, read_languages,
                           translation_stem, with_translations)

ISSUE_FILE = "issue.toml"
__all__ = ["FRONT_MATTER_FENCE", "ISSUE_FILE", "load_issue", "load_item"]

ISSUE_KEYS = {"title", "date", "subject", "preheader", "intro", "draft", "sections", "languages"}
ISSUE_REQUIRED = ("title", "date", "subject", "sections")
SECTION_KEYS = {"title", "intro", "items"}
ITEM_KEYS = {"title", "link", "image", "image_alt", "date", "tags", "draft"}

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.md$")


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

    languages = read_languages(data, issue_path, lines.get("languages"), report)
    for key in data:
        if key not in ISSUE_KEYS and key not in languages[1:]:
            hint = language_key_hint(key, languages)
            report.error(f"unknown key {key!r} (allowed: {', '.join(sorted(ISSUE_KEYS))}{hint})", issue_path,
                         lines.get(key) or table_key_lines(text, key).get(""))
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
    translation_lines = {language: table_key_lines(text, language) for language in languages[1:]}
    issue = Issue(
        slug=folder.resolve().name,
        path=folder,
        title=title,
        date=date,
        subject=subject,
        preheader=get("preheader", str, ""),
        intro=get("intro", str, ""),
        draft=get("draft", bool, False),
        sections=_load_sections(folder, data.get("sections", []), issue_path, text, report, languages),
        lines=lines,
        languages=languages,
        language=languages[0] if languages else "",
        translations=read_language_text(data, languages, ISSUE_TEXT_KEYS, issue_path, translation_lines, report),
        translation_lines=translation_lines,
    )
    _report_unlisted_items(folder, issue, _listed_names(data.get("sections", [])), report)
    return issue


def _load_sections(folder: Path, raw: Any, issue_path: Path, text: str, report: _Reporter,
                   languages: tuple[str, ...]) -> tuple[Section, ...]:
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
            if key not in SECTION_KEYS and key not in languages[1:]:
                hint = language_key_hint(key, languages)
                report.error(f"unknown key {key!r} in section {index + 1} (allowed: {', '.join(sorted(SECTION_KEYS))}{hint})", issue_path, line)
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
                items.append(with_translations(item, languages, ITEM_KEYS, report))
        title = entry.get("title", "")
        if not isinstance(title, str):
            report.error(f"title of section {index + 1} must be a string", issue_path, line)
            title = ""
        own = read_language_text(entry, languages, SECTION_TEXT_KEYS, issue_path, {lang: {"": line or 1} for lang in languages}, report,
                                 where=f" of section {index + 1}")
        sections.append(Section(title=title, items=tuple(items), intro=str(entry.get("intro", "")), translations=own))
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


def _report_unlisted_items(folder: Path, issue: Issue, listed: set[str], report: _Reporter) -> None:
    """Item files no section lists; ``listed`` holds every listed name, loaded or not, so an
    item that failed to load (already reported) and its translations are not called unlisted."""
    translated = {t.path.name for item in issue.items for t in item.translations.values()}
    for path in sorted(folder.glob("*.md")):
        if path.name in listed or path.name in translated or path.name.lower() == "readme.md":
            continue
        stem = translation_stem(path.name)
        if stem is not None and f"{stem[0]}.md" in listed:
            if stem[1] not in issue.languages:
                report.warning(f"translation into {stem[1]!r}, which is not in this issue's languages "
                               f"({', '.join(issue.languages) or 'none listed'})", path, 1)
        else:
            report.warning("item file is not listed in any section of issue.toml", path, 1)


def load_item(path: Path, findings: list[Finding] | None = None) -> Item | None:
    """Read one item file: ``+++`` TOML front matter, then a Markdown body."""
    report = _Reporter(findings)
    front = read_front_matter(path, report)
    if front is None:
        return None
    data, key_lines = front.data, front.lines
    report_unknown_keys(data, ITEM_KEYS, path, key_lines, report)
    get = _typed_getter(data, path, key_lines, report)
    title = get("title", str, "")
    if not title.strip():
        report.error("missing required key 'title'" if "title" not in data else "title is empty", path, key_lines.get("title", 1))
    tags = get("tags", list, [])
    if not all(isinstance(t, str) for t in tags):
        report.error("tags must be a list of strings", path, key_lines.get("tags"))
        tags = []
    body = front.body
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
