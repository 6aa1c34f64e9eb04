"""``digest check``: every problem in an issue, each naming its file and line.

The loader's own findings come first; the checks here look at a loaded issue and at
its rendered size. A new check is one function appended to ``ISSUE_CHECKS``; the CLI
and the preview show it without change.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlsplit

from .config import Settings
from .content import Finding, Issue, load_issue
from .errors import ContentError, DigestError
from .render import render_issue
from .build import sample_message


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
            yield Finding("warning", "image is not https: many mail clients block plain http images", item.path, item.lines.get("image"))


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


def check_size(issue: Issue, settings: Settings) -> Iterable[Finding]:
    try:
        message = sample_message(render_issue(issue, settings), settings)
    except DigestError as exc:
        yield Finding("error", str(exc), issue.path / "issue.toml")
        return
    size = len(message.html.encode("utf-8"))
    if size > settings.clip_bytes:
        yield Finding("error", f"HTML is {size:,} bytes, over Gmail's clipping limit of {settings.clip_bytes:,}", issue.path / "issue.toml")


ISSUE_CHECKS: list[Callable[[Issue, Settings], Iterable[Finding]]] = [
    check_urls,
    check_image_alt,
    check_subject,
    check_bodies,
    check_size,
]


def check_issue(folder: str | Path, settings: Settings) -> list[Finding]:
    """All findings for an issue folder; rendering checks run only on a clean load."""
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
    return findings
