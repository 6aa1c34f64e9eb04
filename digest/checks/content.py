"""Checks of what the editor wrote: each finding names the item file and line to fix.

Each check takes the loaded issue and the settings and yields findings; the preflight
runs every function in ``CONTENT_CHECKS``.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from ..config import Settings
from ..content import Finding, Issue, Item
from ..content.scaffold import EXAMPLE_BODY, EXAMPLE_TITLE
from ..content.translations import ISSUE_TEXT_KEYS
from ..sources.links import body_first_line, body_links, link_key
from .addresses import address_in_url

_TEMPLATE_MARKERS = ("{{", "{%")

# Link text that says nothing out of context: screen-reader users list a message's links
# and hear only these words (WCAG 2.4.4). Compared lower-cased, without punctuation.
VAGUE_LINK_TEXT = frozenset({
    "click here", "here", "click", "read more", "more", "learn more", "continue reading",
    "this", "this link", "link", "go", "details", "more info", "more information",
    "こちら", "ここ", "詳しくはこちら", "詳細", "詳細はこちら", "もっと見る", "続きを読む",
})


def is_vague_link_text(text: str) -> bool:
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    return not words or " ".join(words) in VAGUE_LINK_TEXT


def _own(issue: Issue, key: str) -> Iterator[Item]:
    """Every item, and every translation whose ``key`` differs from its item's (an
    inherited value is checked once, on the item that sets it)."""
    for item, version in issue.items_with_translations():
        if version is item or getattr(version, key) != getattr(item, key):
            yield version


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_urls(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in {id(i): i for key in ("link", "image") for i in _own(issue, key)}.values():
        if item.link and not _absolute_url(item.link):
            yield Finding("error", f"link must be an absolute http(s) URL, got {item.link!r}", item.path, item.lines.get("link"))
        if item.image and not _absolute_url(item.image):
            yield Finding("error", f"image must be an absolute URL, got {item.image!r}", item.path, item.lines.get("image"))
        elif item.image and urlsplit(item.image).scheme != "https":
            yield Finding("error", "image must be an https URL: mail clients block or warn about plain http images", item.path, item.lines.get("image"))


def check_image_alt(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """``image_alt`` is required with an image; ``image_alt = ""`` written out marks a
    decorative image (alt="" on purpose), which screen readers skip."""
    for item in {id(i): i for key in ("image", "body") for i in _own(issue, key)}.values():
        if item.image and not item.image_alt and "image_alt" not in item.lines:
            yield Finding("error", 'image has no image_alt text (screen readers and blocked images need it; image_alt = "" marks a decorative image)', item.path, item.lines.get("image"))
        for found in body_links(item):
            if found.kind == "image" and not found.text.strip():
                yield Finding("error", "image in the body has no alt text: write ![what it shows](url)", item.path, found.line)


def check_subject(issue: Issue, settings: Settings) -> Iterable[Finding]:
    limit = int(settings.table("limits")["subject_chars"])
    subjects = [(issue.subject, issue.lines.get("subject"))]
    subjects += [(text["subject"], issue.translation_lines.get(language, {}).get("subject"))
                 for language, text in issue.translations.items() if "subject" in text]
    for subject, line in subjects:
        if len(subject) > limit:
            yield Finding("warning", f"subject is {len(subject)} characters; over {limit} is cut off in many inboxes", issue.path / "issue.toml", line)
    if not issue.preheader:
        yield Finding("warning", "no preheader: inboxes will show the first text of the email instead", issue.path / "issue.toml", 1)


def check_bodies(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in _own(issue, "body"):
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


def check_link_text(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """Body links whose text means nothing alone ("click here", "read more")."""
    for item in _own(issue, "body"):
        for found in body_links(item):
            if found.kind == "link" and is_vague_link_text(found.text):
                yield Finding("warning", f"link text {found.text!r} says nothing out of context: name what the link opens", item.path, found.line)


def check_addresses_in_links(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """An email address in a URL is a phishing pattern to spam filters (SpamAssassin's
    GB_CUSTOM_HTM_URI) and lands in every web server log."""
    for item in {id(i): i for key in ("link", "image", "body") for i in _own(issue, key)}.values():
        places = [(item.link, item.lines.get("link")), (item.image, item.lines.get("image"))]
        places += [(found.url, found.line) for found in body_links(item)]
        for url, line in places:
            if url and address_in_url(url):
                yield Finding("error", f"URL {url} contains an email address: spam filters score it as phishing and it lands in server logs", item.path, line)


def check_template_leftovers(issue: Issue, settings: Settings) -> Iterable[Finding]:
    issue_toml = issue.path / "issue.toml"
    texts = [(key, getattr(issue, key), issue.lines.get(key)) for key in ISSUE_TEXT_KEYS]
    texts += [(f"{language}.{key}", value, issue.translation_lines.get(language, {}).get(key))
              for language, text in issue.translations.items() for key, value in text.items()]
    for key, value, line in texts:
        marker = _template_marker(value)
        if marker:
            yield Finding("warning", f"{key} contains {marker!r}: an unresolved template variable?", issue_toml, line)
    for item in {id(i): i for key in ("title", "image_alt", "body") for i in _own(issue, key)}.values():
        for key, text in (("title", item.title), ("image_alt", item.image_alt)):
            marker = _template_marker(text)
            if marker:
                yield Finding("warning", f"{key} contains {marker!r}: an unresolved template variable?", item.path, item.lines.get(key))
        body_start = body_first_line(item)
        for offset, line in enumerate(item.body.splitlines()):
            marker = _template_marker(line)
            if marker:
                yield Finding("warning", f"body contains {marker!r}: an unresolved template variable?", item.path, body_start + offset)


def _template_marker(text: str) -> str:
    return next((m for m in _TEMPLATE_MARKERS if m in text), "")


def check_drafts(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """A warning while editing; the preflight makes it an error for ``send``."""
    for item in _own(issue, "draft"):
        if item.draft:
            yield Finding("warning", "item is still a draft (draft = true): delete the draft line to keep it, or delete the item", item.path, item.lines.get("draft"))


def check_example_item(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """The example item ``digest new`` writes must never be mailed."""
    for item in issue.items:
        if item.title == EXAMPLE_TITLE or item.body.startswith(EXAMPLE_BODY):
            line = item.lines.get("title") if item.title == EXAMPLE_TITLE else item.lines.get("body")
            yield Finding("error", f"the example item from `digest new` is still here: rewrite it, or remove it with "
                                   f"`digest item rm {issue.path} {item.path.name}`", item.path, line)


CONTENT_CHECKS: list[Callable[[Issue, Settings], Iterable[Finding]]] = [
    check_example_item,
    check_urls,
    check_image_alt,
    check_subject,
    check_bodies,
    check_duplicate_links,
    check_link_text,
    check_addresses_in_links,
    check_template_leftovers,
    check_drafts,
]
