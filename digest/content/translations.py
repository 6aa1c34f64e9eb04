"""An issue in several languages: reading the translations, and the issue as one
language's readers see it.

``issue.toml`` lists ``languages`` (the first is the default, the language the rest of
the file is written in) and gives each other language's issue-level text in a table
named after it (``[ja]``: title, subject, preheader, intro; a section's ``ja.title``).
An item ``01-x.md`` is translated by ``01-x.ja.md`` beside it (Hugo's convention): its
own front matter and body, inheriting every key it does not set (``link``,
``image``...). ``localise`` then makes the plain ``Issue`` the renderer already knows,
in one language, each item marked with the language its text is really in.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from ..i18n import canonical_tag, is_language_tag
from .model import Issue, Item, Section
from .reading import Reporter, as_date, read_front_matter, report_unknown_keys, typed_getter

ISSUE_TEXT_KEYS = ("title", "subject", "preheader", "intro")
SECTION_TEXT_KEYS = ("title", "intro")
FALLBACKS = ("default", "omit")
_TRANSLATION_NAME = re.compile(r"^(?P<stem>.+)\.(?P<lang>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\.md$")


def read_languages(data: Mapping[str, Any], path: Path, line: int | None, report: Reporter) -> tuple[str, ...]:
    """``languages = ["en", "ja"]``: valid BCP 47 tags, each once, in canonical spelling."""
    raw = data.get("languages", [])
    if not isinstance(raw, list) or not all(isinstance(tag, str) for tag in raw) or ("languages" in data and not raw):
        report.error('languages must be a list of language tags, default first (e.g. ["en", "ja"])', path, line)
        return ()
    languages: list[str] = []
    for tag in raw:
        if not is_language_tag(tag.strip()):
            report.error(f"{tag!r} is not a language tag (like en, ja or pt-BR)", path, line)
            continue
        tag = canonical_tag(tag)
        if tag in languages:
            report.error(f"language {tag!r} is listed twice", path, line)
            continue
        languages.append(tag)
    return tuple(languages)


def read_language_text(data: Mapping[str, Any], languages: tuple[str, ...], keys: tuple[str, ...], path: Path,
                       line_of: Mapping[str, Mapping[str, int]], report: Reporter, where: str = "") -> dict[str, dict[str, str]]:
    """The text of each non-default language, from the table named after it. ``line_of``
    maps a language to its keys' lines (``""``: the table's own line)."""
    text: dict[str, dict[str, str]] = {}
    for language in languages[1:]:
        if language not in data:
            continue
        lines = line_of.get(language, {})
        table = data[language]
        if not isinstance(table, dict):
            report.error(f"{language}{where} must be a table of {', '.join(keys)}", path, lines.get(""))
            continue
        values: dict[str, str] = {}
        for key, value in table.items():
            if key not in keys:
                report.error(f"unknown key {key!r} in {language}{where} (allowed: {', '.join(keys)})", path, lines.get(key, lines.get("")))
            elif not isinstance(value, str):
                report.error(f"{language}.{key}{where} must be a string", path, lines.get(key, lines.get("")))
            elif value.strip():
                values[key] = value
        text[language] = values
    return text


def language_key_hint(key: str, languages: tuple[str, ...]) -> str:
    """A hint for an unknown key that looks like a language tag."""
    if not is_language_tag(key) or canonical_tag(key) in languages[1:]:
        return ""
    if languages and canonical_tag(key) == languages[0]:
        return f"; {key} is the default language: its text is the file's own keys"
    return f"; to give {key} text, list it in languages"


def translation_path(item_path: Path, language: str) -> Path:
    return item_path.with_name(f"{item_path.stem}.{language}.md")


def translation_stem(name: str) -> tuple[str, str] | None:
    """``01-x.ja.md`` -> (``01-x``, ``ja``); None for a name that is not shaped like one."""
    match = _TRANSLATION_NAME.match(name)
    if not match or not is_language_tag(match.group("lang").replace("_", "-")):
        return None
    return match.group("stem"), canonical_tag(match.group("lang"))


def with_translations(item: Item, languages: tuple[str, ...], item_keys: set[str], report: Reporter) -> Item:
    """``item`` with its translations into the issue's other languages attached."""
    found: dict[str, Item] = {}
    for language in languages[1:]:
        for path in (translation_path(item.path, language), translation_path(item.path, language.replace("-", "_"))):
            if path.is_file():
                translation = _load_translation(item, path, language, item_keys, report)
                if translation is not None:
                    found[language] = translation
                break
    return replace(item, language=languages[0] if languages else "", translations=found)


def _load_translation(item: Item, path: Path, language: str, item_keys: set[str], report: Reporter) -> Item | None:
    front = read_front_matter(path, report)
    if front is None:
        return None
    data, lines = front.data, front.lines
    report_unknown_keys(data, item_keys, path, lines, report)
    get = typed_getter(data, path, lines, report)
    title = get("title", str, "").strip()
    if not title:
        report.error("a translation needs its own title" if "title" not in data else "title is empty", path, lines.get("title", 1))
    tags = get("tags", list, list(item.tags))
    changes: dict[str, Any] = {key: get(key, str, "").strip() for key in ("link", "image", "image_alt") if key in data}
    if "date" in data:
        changes["date"] = as_date(data["date"], path, lines.get("date"), report)
    if "draft" in data:
        changes["draft"] = get("draft", bool, False)
    return replace(item, path=path, slug=item.slug, title=title, body=front.body, lines=lines, language=language,
                   tags=tuple(t for t in tags if isinstance(t, str)), translations={}, **changes)


def localise(issue: Issue, language: str | None = None, fallback: str = "default") -> Issue:
    """The issue as readers of ``language`` see it: its text in that language where the
    editor wrote it, else the default language's (each item keeps ``language`` saying
    which), or with ``fallback="omit"`` untranslated items left out (and sections
    left empty by that). ``language`` None or not one of the issue's: the default."""
    default = issue.languages[0] if issue.languages else issue.language
    if language is None or language not in issue.languages or language == default:
        return replace(issue, language=default)
    text = issue.translations.get(language, {})
    sections = []
    for section in issue.sections:
        items = tuple(item.translations[language] if language in item.translations else item
                      for item in section.items if language in item.translations or fallback != "omit")
        if not items and section.items:
            continue
        own = section.translations.get(language, {})
        sections.append(replace(section, items=items, title=own.get("title", section.title), intro=own.get("intro", section.intro)))
    return replace(issue, language=language, sections=tuple(sections),
                   **{key: text[key] for key in ISSUE_TEXT_KEYS if key in text})


def untranslated(issue: Issue) -> dict[str, tuple[Item, ...]]:
    """For each language but the default, the items that have no translation into it."""
    return {language: tuple(item for item in issue.items if language not in item.translations)
            for language in issue.languages[1:]}
