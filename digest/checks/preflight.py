"""``digest check``: every problem in an issue, each naming its file and line.

The loader's own findings come first; the checks here look at a loaded issue and at
its rendered size. A new check is one function appended to ``ISSUE_CHECKS``; the CLI
and the preview show it without change.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from ..config import Settings
from ..content import Finding, Issue, Item, load_issue
from ..content.scaffold import EXAMPLE_BODY, EXAMPLE_TITLE
from ..errors import ContentError, DigestError
from ..render import render_issue
from ..render.build import sample_message
from ..sources.links import link_key

_TEMPLATE_MARKERS = ("{{", "{%")


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_urls(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in issue.items:
        if item.link and not _absolute_url(item.link):
            yield Finding("error", f"link must be an absolute http(s) URL, got {item.link!r}", item.path, item.lines.get("link"))
        if item.image and not _absolute_url(item.image):
            yield Finding("error", f"image must be an absolute URL, got {item.image!r}", item.path, item.lines.get("image"))
        elif item.image and urlsplit(item.image).scheme != "https":
            yield Finding("error", "image must be an https URL: mail clients block or warn about plain http images", item.path, item.lines.get("image"))


def check_image_alt(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in issue.items:
        if item.image and not item.image_alt:
            yield Finding("error", "image has no image_alt text (screen readers and blocked images need it)", item.path, item.lines.get("image"))


def check_subject(issue: Issue, settings: Settings) -> Iterable[Finding]:
    limit = int(settings.table("limits")["subject_chars"])
    if len(issue.subject) > limit:
        yield Finding("warning", f"subject is {len(issue.subject)} characters; over {limit} is cut off in many inboxes", issue.path / "issue.toml", issue.lines.get("subject"))
    if not issue.preheader:
        yield Finding("warning", "no preheader: inboxes will show the first text of the email instead", issue.path / "issue.toml", 1)


def check_bodies(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in issue.items:
        if not item.body.strip():
            yield Finding("warning", "item has no body text", item.path, item.lines.get("body"))


def check_duplicate_links(issue: Issue, settings: Settings) -> Iterable[Finding]:
    first: dict[str, Item] = {}
    for item in issue.items:
        if not item.link:
            continue
        earlier = first.setdefault(link_key(item.link), item)
        if earlier is not item:
            where = f"{earlier.path.name}:{earlier.lines.get('link')}" if earlier.lines.get("link") else earlier.path.name
            yield Finding("warning", f"link {item.link} is also the link of {where}", item.path, item.lines.get("link"))


def check_template_leftovers(issue: Issue, settings: Settings) -> Iterable[Finding]:
    issue_toml = issue.path / "issue.toml"
    for key in ("title", "subject", "preheader", "intro"):
        marker = _template_marker(getattr(issue, key))
        if marker:
            yield Finding("warning", f"{key} contains {marker!r}: an unresolved template variable?", issue_toml, issue.lines.get(key))
    for item in issue.items:
        for key, text in (("title", item.title), ("image_alt", item.image_alt)):
            marker = _template_marker(text)
            if marker:
                yield Finding("warning", f"{key} contains {marker!r}: an unresolved template variable?", item.path, item.lines.get(key))
        body_start = _body_first_line(item)
        for offset, line in enumerate(item.body.splitlines()):
            marker = _template_marker(line)
            if marker:
                yield Finding("warning", f"body contains {marker!r}: an unresolved template variable?", item.path, body_start + offset)


def _template_marker(text: str) -> str:
    return next((m for m in _TEMPLATE_MARKERS if m in text), "")


def _body_first_line(item: Item) -> int:
    """The file line of the body's first line: the loader strips the blank lines that
    may follow the closing +++, so count them back in."""
    start = item.lines.get("body", 1)
    try:
        lines = item.path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return start
    blank = next((i for i, line in enumerate(lines[start - 1:]) if line), 0)
    return start + blank


def check_drafts(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in issue.items:
        if item.draft:
            yield Finding("warning", "item is still a draft (draft = true): delete the draft line to keep it, or delete the item", item.path, item.lines.get("draft"))


def check_size(issue: Issue, settings: Settings) -> Iterable[Finding]:
    try:
        message = sample_message(render_issue(issue, settings), settings)
    except DigestError as exc:
        yield Finding("error", str(exc), issue.path / "issue.toml")
        return
    size = len(message.html.encode("utf-8"))
    if size > settings.clip_bytes:
        yield Finding("error", f"HTML is {size:,} bytes, over Gmail's clipping limit of {settings.clip_bytes:,}", issue.path / "issue.toml")


def check_example_item(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """The example item ``digest new`` writes must never be mailed."""
    for item in issue.items:
        if item.title == EXAMPLE_TITLE or item.body.startswith(EXAMPLE_BODY):
            line = item.lines.get("title") if item.title == EXAMPLE_TITLE else item.lines.get("body")
            yield Finding("error", f"the example item from `digest new` is still here: rewrite it, or remove it with "
                                   f"`digest item rm {issue.path} {item.path.name}`", item.path, line)


ISSUE_CHECKS: list[Callable[[Issue, Settings], Iterable[Finding]]] = [
    check_example_item,
    check_urls,
    check_image_alt,
    check_subject,
    check_bodies,
    check_duplicate_links,
    check_template_leftovers,
    check_drafts,
    check_size,
]


def check_issue(folder: str | Path, settings: Settings, links: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """All findings for an issue folder; rendering checks run only on a clean load, and
    with ``links`` every link and image is also fetched (``progress(done, total)`` is
    told as each answers)."""
    findings: list[Finding] = []
    try:
        issue = load_issue(folder, findings)
    except ContentError as exc:
        return [*findings, Finding("error", exc.message, exc.path or Path(folder), exc.line)]
    loader_errors = any(f.severity == "error" for f in findings)
    for check in ISSUE_CHECKS:
        if loader_errors and check is check_size:
            continue
        findings.extend(check(issue, settings))
    if links and not loader_errors:
        from ..sources.linkcheck import check_links  # requests, only when links are checked

        findings.extend(check_links(issue, settings, progress))
    return findings
