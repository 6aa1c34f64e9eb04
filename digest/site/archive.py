"""``digest archive``: every published issue as a static site with an Atom feed per language.

The site is plain files any static host can serve. The newsletter's language is at the
root: ``index.html`` (from the editor's ``templates/archive/index.html``), one
``<slug>/index.html`` per issue (the public web version, so the emails' "view in
browser" link ``{base_url}/{slug}/`` lands on it) and ``feed.xml``; every other
language an issue is written in gets the same under ``<lang>/`` (``ja/2015-10/``,
``ja/index.html``, ``ja/feed.xml``). Issue pages link their other languages with
``hreflang`` and a visible switch. A language's index and feed also list the issues
that have no edition in it, in their default language and marked so, unless
``[i18n] fallback = "omit"``. Links inside the site are relative; the feeds' are
absolute, as Atom readers need. The site is built in a temporary folder and swapped in
whole, so a bad issue leaves the previous site untouched rather than half-rewritten.
"""
from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..content import ISSUE_FILE, Issue, load_issue
from ..content.translations import localise
from ..errors import DigestError
from ..i18n import language_name, translations
from ..render import render_web_page
from ..render.issue import Alternate, build_environment, issue_languages, web_path, web_url_for
from ..render.markdown import LinkNotes, markdown_to_text
from ..render.templates import language_context, render_template

INDEX_TEMPLATE = "archive/index.html"
FEED_FILE = "feed.xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class ArchiveEntry:
    """One issue as the index and the feed show it."""

    slug: str
    title: str
    date: dt.date
    summary: str
    href: str  # relative to its language's index
    url: str  # absolute, for the feed
    language: str = ""  # what its title and summary are written in


@dataclass(frozen=True)
class ArchiveResult:
    out_dir: Path
    entries: tuple[ArchiveEntry, ...]  # the newsletter language's index
    drafts: tuple[str, ...]
    languages: tuple[str, ...] = ()


def published_issues(issues_dir: Path) -> tuple[list[Issue], list[str]]:
    """Every issue folder under ``issues_dir`` loaded (first bad one raises), newest first,
    and the slugs of the drafts left out."""
    folders = sorted(p for p in issues_dir.iterdir() if (p / ISSUE_FILE).is_file()) if issues_dir.is_dir() else []
    issues = [load_issue(folder) for folder in folders]
    published = sorted((i for i in issues if not i.draft), key=lambda i: (i.date, i.slug), reverse=True)
    return published, [i.slug for i in issues if i.draft]


def site_languages(issues: list[Issue], settings: Settings) -> tuple[str, ...]:
    """The newsletter's language, then every other language an issue is written in."""
    found = [settings.newsletter.language]
    for issue in issues:
        found += [language for language in issue_languages(issue, settings) if language not in found]
    return tuple(found)


def build_archive(settings: Settings, out_dir: Path | None = None) -> ArchiveResult:
    """Render each issue's page per language, an index and a feed per language, then swap them in."""
    out_dir = (out_dir or settings.build_dir / "site").resolve()
    issues, drafts = published_issues(settings.issues_dir)
    env = build_environment(settings)
    languages = site_languages(issues, settings)
    clash = sorted({issue.slug for issue in issues} & set(languages))
    if clash:
        raise DigestError(f"{settings.issues_dir / clash[0]}: an issue folder may not be named like a language of the site ({clash[0]})")
    omit = settings.table("i18n").get("fallback") == "omit"
    pages = {f"{web_path(issue.slug, language, settings)}index.html": render_web_page(issue, settings, env, language)
             for issue in issues for language in issue_languages(issue, settings)}
    by_language = {}
    for language in languages:
        prefix = _prefix(language, settings)
        entries = tuple(entry for issue in issues if (entry := _entry(issue, settings, language, omit)) is not None)
        by_language[language] = entries
        pages[f"{prefix}index.html"] = render_template(env, INDEX_TEMPLATE, {
            "newsletter": settings.newsletter,
            "theme": settings.theme,
            "entries": entries,
            "feed_href": FEED_FILE,
            "alternates": _index_alternates(languages, language, settings),
            "subscribe_url": settings.newsletter.subscribe_url or f"{settings.newsletter.base_url.rstrip('/')}/subscribe",
            **language_context(translations(settings.locale_dir, language), language),
        })
        pages[f"{prefix}{FEED_FILE}"] = atom_feed(entries, settings, language)
    _write_site(out_dir, pages)
    return ArchiveResult(out_dir, by_language[languages[0]], tuple(drafts), languages)


def _prefix(language: str, settings: Settings) -> str:
    return "" if language == settings.newsletter.language else f"{language}/"


def _index_alternates(languages: tuple[str, ...], current: str, settings: Settings) -> tuple[Alternate, ...]:
    base = settings.newsletter.base_url.rstrip("/")
    here = "/" + _prefix(current, settings)
    return tuple(Alternate(language, language_name(language), f"{base}/{_prefix(language, settings)}",
                           _relative("/" + _prefix(language, settings), here), language == current) for language in languages)


def _relative(target: str, here: str) -> str:
    """``target`` (a folder path from the site root) as a link from the folder ``here``."""
    return posixpath.relpath(target, here).rstrip("/") + "/" if target != here else "./"


def summary_of(issue: Issue) -> str:
    """The preheader, else the intro as one line of plain text."""
    if issue.preheader:
        return issue.preheader
    text = markdown_to_text(issue.intro, LinkNotes(), width=10**6)
    # markdown_to_text numbers links as "text [n]" for the email's footnotes; a summary has none.
    return " ".join(re.sub(r" \[\d+\]", "", text).split())


def atom_feed(entries: tuple[ArchiveEntry, ...], settings: Settings, language: str | None = None) -> str:
    """Atom 1.0 (RFC 4287) for one language's index, with absolute URLs; an entry in
    another language says so with its own xml:lang. ElementTree does the escaping."""
    language = language or settings.newsletter.language
    base = f"{settings.newsletter.base_url.rstrip('/')}/{_prefix(language, settings)}".rstrip("/")
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_atom("feed"), {XML_LANG: language})
    _text(feed, "id", f"{base}/")
    _text(feed, "title", settings.newsletter.name)
    _text(feed, "updated", _timestamp(entries[0].date) if entries else _timestamp(dt.date(1970, 1, 1)))
    ET.SubElement(feed, _atom("link"), {"rel": "self", "type": "application/atom+xml", "href": f"{base}/{FEED_FILE}"})
    ET.SubElement(feed, _atom("link"), {"rel": "alternate", "type": "text/html", "href": f"{base}/"})
    author = ET.SubElement(feed, _atom("author"))
    _text(author, "name", settings.newsletter.from_name or settings.newsletter.name)
    for entry in entries:
        item = ET.SubElement(feed, _atom("entry"), {XML_LANG: entry.language} if entry.language != language else {})
        _text(item, "id", entry.url)
        _text(item, "title", entry.title)
        _text(item, "updated", _timestamp(entry.date))
        _text(item, "published", _timestamp(entry.date))
        ET.SubElement(item, _atom("link"), {"rel": "alternate", "type": "text/html", "href": entry.url})
        if entry.summary:
            _text(item, "summary", entry.summary)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry(issue: Issue, settings: Settings, language: str, omit: bool) -> ArchiveEntry | None:
    """The issue on ``language``'s index: its edition in that language, else (unless
    omitted) its default one, linked where that page lives."""
    languages = issue_languages(issue, settings)
    if language not in languages and omit:
        return None
    shown = language if language in languages else languages[0]
    text = localise(issue, shown)
    href = _relative("/" + web_path(issue.slug, shown, settings), "/" + _prefix(language, settings))
    return ArchiveEntry(issue.slug, text.title, issue.date, summary_of(text), href, web_url_for(issue, settings, shown), shown)


def _atom(tag: str) -> str:
    return f"{{{ATOM_NS}}}{tag}"


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, _atom(tag))
    element.text = value
    return element


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _write_site(out_dir: Path, pages: dict[str, str]) -> None:
    """Write into a sibling temp folder, then rename it into place; the old site is moved
    aside first, put back if the swap fails, and removed last."""
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    except OSError as exc:
        raise DigestError(f"{out_dir}: cannot write the archive ({exc.strerror})") from None
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    try:
        for name, text in pages.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        os.chmod(staging, 0o755)
        if out_dir.exists():
            out_dir.rename(old)
        try:
            staging.rename(out_dir)
        except OSError:
            if old.exists():
                old.rename(out_dir)
            raise
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DigestError(f"{out_dir}: cannot write the archive ({exc.strerror or exc})") from None
    shutil.rmtree(old, ignore_errors=True)
