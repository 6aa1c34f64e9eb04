"""``digest archive``: every published issue as a static site with an Atom feed.

The site is plain files any static host can serve: ``index.html`` (from the editor's
``templates/archive/index.html``), one ``<slug>/index.html`` per issue (the public web
version, so the emails' "view in browser" link ``{base_url}/{slug}/`` lands on it) and
``feed.xml``. Links inside the site are relative; the feed's are absolute, as Atom
readers need. The site is built in a temporary folder and swapped in whole, so a bad
issue leaves the previous site untouched rather than half-rewritten.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..content import ISSUE_FILE, Issue, load_issue
from ..errors import DigestError
from ..render import render_web_page
from ..render.issue import build_environment, web_url_for
from ..render.markdown import LinkNotes, markdown_to_text
from ..render.templates import render_template

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
    href: str  # relative to the site root
    url: str  # absolute, for the feed


@dataclass(frozen=True)
class ArchiveResult:
    out_dir: Path
    entries: tuple[ArchiveEntry, ...]
    drafts: tuple[str, ...]


def published_issues(issues_dir: Path) -> tuple[list[Issue], list[str]]:
    """Every issue folder under ``issues_dir`` loaded (first bad one raises), newest first,
    and the slugs of the drafts left out."""
    folders = sorted(p for p in issues_dir.iterdir() if (p / ISSUE_FILE).is_file()) if issues_dir.is_dir() else []
    issues = [load_issue(folder) for folder in folders]
    published = sorted((i for i in issues if not i.draft), key=lambda i: (i.date, i.slug), reverse=True)
    return published, [i.slug for i in issues if i.draft]


def build_archive(settings: Settings, out_dir: Path | None = None) -> ArchiveResult:
    """Render the index, one page per published issue and the feed, then swap them in."""
    out_dir = (out_dir or settings.build_dir / "site").resolve()
    issues, drafts = published_issues(settings.issues_dir)
    env = build_environment(settings)
    entries = tuple(_entry(issue, settings) for issue in issues)
    pages = {f"{issue.slug}/index.html": render_web_page(issue, settings, env) for issue in issues}
    pages["index.html"] = render_template(env, INDEX_TEMPLATE, {
        "newsletter": settings.newsletter,
        "theme": settings.theme,
        "entries": entries,
        "feed_href": FEED_FILE,
        "subscribe_url": f"{settings.newsletter.base_url.rstrip('/')}/subscribe",
    })
    pages[FEED_FILE] = atom_feed(entries, settings)
    _write_site(out_dir, pages)
    return ArchiveResult(out_dir, entries, tuple(drafts))


def summary_of(issue: Issue) -> str:
    """The preheader, else the intro as one line of plain text."""
    if issue.preheader:
        return issue.preheader
    text = markdown_to_text(issue.intro, LinkNotes(), width=10**6)
    # markdown_to_text numbers links as "text [n]" for the email's footnotes; a summary has none.
    return " ".join(re.sub(r" \[\d+\]", "", text).split())


def atom_feed(entries: tuple[ArchiveEntry, ...], settings: Settings) -> str:
    """Atom 1.0 (RFC 4287) with absolute URLs; ElementTree does the escaping."""
    base = settings.newsletter.base_url.rstrip("/")
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(_atom("feed"), {XML_LANG: settings.newsletter.language})
    _text(feed, "id", f"{base}/")
    _text(feed, "title", settings.newsletter.name)
    _text(feed, "updated", _timestamp(entries[0].date) if entries else _timestamp(dt.date(1970, 1, 1)))
    ET.SubElement(feed, _atom("link"), {"rel": "self", "type": "application/atom+xml", "href": f"{base}/{FEED_FILE}"})
    ET.SubElement(feed, _atom("link"), {"rel": "alternate", "type": "text/html", "href": f"{base}/"})
    author = ET.SubElement(feed, _atom("author"))
    _text(author, "name", settings.newsletter.from_name or settings.newsletter.name)
    for entry in entries:
        item = ET.SubElement(feed, _atom("entry"))
        _text(item, "id", entry.url)
        _text(item, "title", entry.title)
        _text(item, "updated", _timestamp(entry.date))
        _text(item, "published", _timestamp(entry.date))
        ET.SubElement(item, _atom("link"), {"rel": "alternate", "type": "text/html", "href": entry.url})
        if entry.summary:
            _text(item, "summary", entry.summary)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _entry(issue: Issue, settings: Settings) -> ArchiveEntry:
    url = web_url_for(issue, settings)
    return ArchiveEntry(issue.slug, issue.title, issue.date, summary_of(issue), f"{issue.slug}/", url)


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
