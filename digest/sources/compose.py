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
from ..content.arrange import find_section
from ..content.files import create_exclusive, read_exact, write_atomic
from ..content.tomledit import append_items, section_titles, toml_string
from ..errors import ConfigError, ContentError, FetchError
from .fetch import FetchLimits
from .links import link_key
from .readers import FeedEntry, read_feed, read_page

DRAFT_LINE = "draft = true  # from a feed: delete this line to keep the item, or delete the item"
# With no alt text from the page, the line is left commented out: check reports the image
# until the editor writes one (image_alt = "" alone would mark the image decorative).
ALT_MISSING = '# image_alt = ""  describe the image for readers who cannot see it, then remove the "# "'

_MARKUP = set("\\`*_{}[]<>()#+!|~&$")


@dataclass(frozen=True)
class NewItem:
    """An item to be written: plain text fields, absolute http(s) URLs, and the title of
    the section to list it in (None: the default section)."""

    title: str
    link: str
    body: str = ""
    image: str = ""
    image_alt: str = ""
    date: dt.date | None = None
    draft: bool = False
    section: str | None = None


@dataclass(frozen=True)
class Written:
    """An item file written and listed: what the editor is told about it."""

    path: Path
    item: NewItem
    section: str
    new_section: bool


@dataclass(frozen=True)
class Feed:
    """One ``[feeds] urls`` entry: a URL, and the section its drafts go to."""

    url: str
    section: str | None = None


@dataclass(frozen=True)
class PullResult:
    """What ``pull`` wrote and what it passed over, for the editor's summary."""

    created: tuple[Written, ...]
    feeds: int
    since: dt.date | None
    already_listed: int
    too_old: int
    undated: int
    left_out: int = 0
    max_new: int = 0


def add_page(folder: Path, url: str, settings: Settings, section: str | None = None,
             new_section: bool = False, force: bool = False) -> Written:
    """Fetch ``url`` and add an item made from its title, description and image.
    Refuses, before fetching, a section that does not exist (unless ``new_section``)
    and a link the issue already has (unless ``force``)."""
    issue_toml = _issue_toml(folder)
    _target_section(read_exact(issue_toml), section, new_section, issue_toml)
    issue = load_issue(folder, findings=[])
    if not force:
        _refuse_known(issue, url)
    page = read_page(url, FetchLimits.from_settings(settings))
    if not force:
        _refuse_known(issue, page.link)
    item = NewItem(title=page.title, link=page.link, body=page.description, image=page.image, image_alt=page.image_alt)
    return write_items(folder, [item], section)[0]


def pull_feeds(folder: Path, settings: Settings, section: str | None = None, new_section: bool = False) -> PullResult:
    """Add a draft item for each feed entry since the previous issue that the issue lacks:
    at most ``[feeds] max_new`` a feed (the newest), in the feed's own section if
    ``[feeds]`` names one, else ``section``, else the last. Every feed is read before
    anything is written, so one broken feed means nothing is written."""
    feeds = feed_sources(settings)
    max_new = int(settings.table("feeds")["max_new"])
    issue_toml = _issue_toml(folder)
    _target_section(read_exact(issue_toml), section, new_section, issue_toml)
    issue = load_issue(folder, findings=[])
    since = previous_issue_date(settings.issues_dir, issue)
    limits = FetchLimits.from_settings(settings)
    fetched = [(feed, _read_feed(feed.url, limits)) for feed in feeds]
    known = {link_key(item.link) for item in issue.items if item.link}
    counts = {"listed": 0, "old": 0, "undated": 0, "left_out": 0}
    chosen: list[NewItem] = []
    for feed, entries in fetched:
        fresh = []
        for entry in entries:
            reason = _skip_reason(entry, known, since)
            if reason:
                counts[reason] += 1
            elif link_key(entry.link) not in {link_key(e.link) for e in fresh}:
                fresh.append(entry)
        kept = _newest(fresh, max_new)
        counts["left_out"] += len(fresh) - len(kept)
        known.update(link_key(entry.link) for entry in kept)
        target = feed.section if section is None else section
        chosen += [NewItem(title=e.title, link=e.link, body=e.summary, date=e.published, draft=True, section=target) for e in kept]
    created = write_items(folder, chosen, section) if chosen else []
    return PullResult(tuple(created), len(feeds), since, counts["listed"], counts["old"], counts["undated"], counts["left_out"], max_new)


def feed_sources(settings: Settings) -> list[Feed]:
    """The feeds in ``[feeds] urls``: each a URL, or ``{ url = "...", section = "..." }``."""
    where = f"{settings.source or 'config.toml'}: [feeds] urls"
    feeds = []
    for entry in settings.table("feeds")["urls"]:
        if isinstance(entry, str):
            feeds.append(Feed(entry))
        elif (isinstance(entry, dict) and set(entry) <= {"url", "section"} and isinstance(entry.get("url"), str)
              and isinstance(entry.get("section", ""), str)):
            feeds.append(Feed(entry["url"], entry.get("section") or None))
        else:
            raise ConfigError(f'{where}: each feed is a URL or {{ url = "...", section = "..." }}, not {entry!r}')
    if not feeds:
        raise ConfigError(f"{settings.source or 'config.toml'}: no feeds to pull; list them as [feeds] urls = [...]")
    return feeds


def _read_feed(url: str, limits: FetchLimits) -> list[FeedEntry]:
    try:
        return read_feed(url, limits)
    except FetchError as exc:
        raise FetchError(f"{exc.message}; nothing was pulled", exc.url) from None


def _newest(entries: list[FeedEntry], limit: int) -> list[FeedEntry]:
    """The ``limit`` most recent entries (undated ones count as oldest), in feed order."""
    if limit <= 0 or len(entries) <= limit:
        return entries
    ranked = sorted(range(len(entries)), key=lambda i: entries[i].published or dt.date.min, reverse=True)
    keep = set(ranked[:limit])
    return [entry for i, entry in enumerate(entries) if i in keep]


def _target_section(text: str, section: str | None, create: bool, issue_toml: Path) -> None:
    """Before fetching anything: refuse a section name the issue lacks (unless asked to
    create it), and prove that issue.toml can be edited at all."""
    if section is not None and not create:
        find_section(section_titles(text, issue_toml), section, issue_toml, "; add --new-section to create it")
    append_items(text, section, ["planned.md"], issue_toml)


def _refuse_known(issue: Issue, url: str) -> None:
    key = link_key(url)
    for item in issue.items:
        if item.link and link_key(item.link) == key:
            raise ContentError(f"already has the link {url}; add --force to add it again", item.path, item.lines.get("link"))


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


def write_items(folder: Path, items: list[NewItem], section: str | None = None) -> list[Written]:
    """Write each item to a new file and list it in issue.toml (in ``item.section``, else
    ``section``, else the last section; a missing one is added): all of it or nothing."""
    issue_toml = _issue_toml(folder)
    text = read_exact(issue_toml)
    titles = section_titles(text, issue_toml)
    default = section if section is not None else (titles[-1] if titles else None)
    if default is None and any(item.section is None for item in items):
        raise ContentError("issue.toml has no [[sections]]; name one with --section", issue_toml)
    taken = {p.name.lower() for p in folder.iterdir()}
    planned: list[tuple[str, NewItem, str]] = []
    for item in items:
        name = item_filename(item.title, item.link, taken)
        taken.add(name.lower())
        planned.append((name, item, item.section if item.section is not None else str(default)))
    new_text = text
    for target in dict.fromkeys(target for _, _, target in planned):
        new_text = append_items(new_text, target, [name for name, _, t in planned if t == target], issue_toml)
    created: list[Path] = []
    try:
        for name, item, _ in planned:
            create_exclusive(folder / name, item_text(item))
            created.append(folder / name)
        write_atomic(issue_toml, new_text)
    except OSError as exc:
        _remove(created)
        raise ContentError(f"cannot write ({exc.strerror})", exc.filename or folder) from None
    except BaseException:
        _remove(created)
        raise
    return [Written(folder / name, item, target, target not in titles) for name, item, target in planned]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def item_text(item: NewItem) -> str:
    """The item file: TOML front matter with escaped strings, then an escaped Markdown
    body. An image the page gave no description of gets an empty ``image_alt`` with a
    note, which ``check`` reports until the editor writes one."""
    front = [f"title = {toml_string(item.title or item.link)}", f"link = {toml_string(item.link)}"]
    if item.image:
        alt = f"image_alt = {toml_string(item.image_alt)}"
        front += [f"image = {toml_string(item.image)}", alt if item.image_alt else ALT_MISSING]
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
