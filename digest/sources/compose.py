"""Composing an issue: item files made from a web page (``digest add``) or from feeds
(``digest pull``), listed in issue.toml for the editor to edit, keep or delete.

Untrusted text reaches the item file only as a TOML string (escaped) or as Markdown
with every markup character backslash-escaped, so a page cannot add front-matter keys,
links, HTML or template syntax. Either every new file and the issue.toml edit are
written, or none is.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..config import Settings
from ..content import ISSUE_FILE, Issue, load_issue
from ..errors import ConfigError, ContentError
from .fetch import FetchLimits
from .links import link_key
from .readers import FeedEntry, read_feed, read_page
from ..content.tomledit import append_items, create_exclusive, toml_string, write_atomic

DRAFT_LINE = "draft = true  # from a feed: delete this line to keep the item, or delete the item"
_MARKUP = set("\\`*_{}[]<>()#+!|~&$")


@dataclass(frozen=True)
class NewItem:
    """An item to be written: plain text fields, absolute http(s) URLs."""

    title: str
    link: str
    body: str = ""
    image: str = ""
    image_alt: str = ""
    date: dt.date | None = None
    draft: bool = False


@dataclass(frozen=True)
class PullResult:
    """What ``pull`` wrote and what it passed over, for the editor's summary."""

    created: tuple[Path, ...]
    feeds: int
    since: dt.date | None
    already_listed: int
    too_old: int
    undated: int


def add_page(folder: Path, url: str, settings: Settings, section: str | None = None) -> Path:
    """Fetch ``url`` and add an item made from its title, description and image."""
    issue_toml = _issue_toml(folder)
    append_items(_read(issue_toml), section, ["planned.md"], issue_toml)  # fail before fetching
    page = read_page(url, FetchLimits.from_settings(settings))
    item = NewItem(title=page.title, link=page.link, body=page.description, image=page.image, image_alt=page.image_alt)
    return write_items(folder, [item], section)[0]


def pull_feeds(folder: Path, settings: Settings, section: str | None = None) -> PullResult:
    """Add a draft item for each feed entry since the previous issue that the issue lacks."""
    urls = list(settings.table("feeds")["urls"])
    if not urls:
        raise ConfigError(f"{settings.source or 'config.toml'}: no feeds to pull; list them as [feeds] urls = [...]")
    issue_toml = _issue_toml(folder)
    append_items(_read(issue_toml), section, ["planned.md"], issue_toml)  # fail before fetching
    issue = load_issue(folder, findings=[])
    since = previous_issue_date(settings.issues_dir, issue)
    limits = FetchLimits.from_settings(settings)
    entries = [entry for url in urls for entry in read_feed(url, limits)]
    known = {link_key(item.link) for item in issue.items if item.link}
    counts = {"listed": 0, "old": 0, "undated": 0}
    chosen: list[NewItem] = []
    for entry in entries:
        reason = _skip_reason(entry, known, since)
        if reason:
            counts[reason] += 1
            continue
        known.add(link_key(entry.link))
        chosen.append(NewItem(title=entry.title, link=entry.link, body=entry.summary, date=entry.published, draft=True))
    created = write_items(folder, chosen, section) if chosen else []
    return PullResult(tuple(created), len(urls), since, counts["listed"], counts["old"], counts["undated"])


def _skip_reason(entry: FeedEntry, known: set[str], since: dt.date | None) -> str:
    if link_key(entry.link) in known:
        return "listed"
    if since is not None and entry.published is None:
        return "undated"
    if since is not None and entry.published is not None and entry.published < since:
        return "old"
    return ""


def previous_issue_date(issues_dir: Path, issue: Issue) -> dt.date | None:
    """The latest date of another issue folder dated before ``issue`` (folders whose
    issue.toml does not parse or has no date are passed over)."""
    dates = []
    for candidate in sorted(issues_dir.glob(f"*/{ISSUE_FILE}")) if issues_dir.is_dir() else []:
        if candidate.parent.resolve() == issue.path.resolve():
            continue
        try:
            date = tomllib.loads(candidate.read_text(encoding="utf-8")).get("date")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(date, dt.datetime):
            date = date.date()
        if isinstance(date, dt.date) and date < issue.date:
            dates.append(date)
    return max(dates, default=None)


def write_items(folder: Path, items: list[NewItem], section: str | None) -> list[Path]:
    """Write each item to a new file and list it in issue.toml: all of it or nothing."""
    issue_toml = _issue_toml(folder)
    taken = {p.name.lower() for p in folder.iterdir()}
    names = []
    for item in items:
        names.append(item_filename(item.title, item.link, taken))
        taken.add(names[-1].lower())
    new_text = append_items(_read(issue_toml), section, names, issue_toml)
    created: list[Path] = []
    try:
        for name, item in zip(names, items):
            create_exclusive(folder / name, item_text(item))
            created.append(folder / name)
        write_atomic(issue_toml, new_text)
    except OSError as exc:
        _remove(created)
        raise ContentError(f"cannot write ({exc.strerror})", exc.filename or folder) from None
    except BaseException:
        _remove(created)
        raise
    return created


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def item_text(item: NewItem) -> str:
    """The item file: TOML front matter with escaped strings, then an escaped Markdown body."""
    front = [f"title = {toml_string(item.title or item.link)}", f"link = {toml_string(item.link)}"]
    if item.image:
        front += [f"image = {toml_string(item.image)}", f"image_alt = {toml_string(item.image_alt)}"]
    if item.date:
        front.append(f"date = {item.date.isoformat()}")
    if item.draft:
        front.append(DRAFT_LINE)
    return "+++\n" + "\n".join(front) + "\n+++\n" + markdown_text(item.body) + "\n"


def markdown_text(text: str) -> str:
    """One line of plain text as Markdown that renders as exactly that text."""
    escaped = "".join("\\" + ch if ch in _MARKUP else ch for ch in text)
    return re.sub(r"^(\d+)([.)])|^([-=])", lambda m: (m.group(1) or "") + "\\" + (m.group(2) or m.group(3)), escaped)


def item_filename(title: str, link: str, taken: set[str]) -> str:
    """A short, safe, unused file name from the title (or the link when the title has no ASCII)."""
    parts = urlsplit(link)
    base = _slug(title) or _slug(f"{parts.netloc} {parts.path}") or "item"
    name, number = f"{base}.md", 2
    while name.lower() in taken:
        name, number = f"{base}-{number}.md", number + 1
    return name


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-")


def _issue_toml(folder: Path) -> Path:
    if not folder.is_dir():
        raise ContentError("not an issue folder (no such directory)", folder)
    return folder / ISSUE_FILE


def _read(path: Path) -> str:
    """The text exactly as stored (line endings untranslated, so the edit keeps them)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            return file.read()
    except FileNotFoundError:
        raise ContentError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"cannot read ({getattr(exc, 'strerror', None) or exc})", path) from None
