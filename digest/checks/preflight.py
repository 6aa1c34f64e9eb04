"""``digest check``: every problem in an issue, each naming its file and line.

The loader's own findings come first; the checks here look at a loaded issue (in every
language) and at its rendered size. A new check is one function appended to
``ISSUE_CHECKS``; the CLI and the preview show it without change. The rendering the
size check measures is the one ``check_and_render`` returns, so the preview shows the
very editions it checked instead of rendering the issue a second time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

import jinja2

from ..config import Settings
from ..content import Finding, Issue, Item, load_issue
from ..content.scaffold import EXAMPLE_BODY, EXAMPLE_TITLE
from ..content.translations import ISSUE_TEXT_KEYS, translation_path, untranslated
from ..errors import ContentError, DigestError
from ..i18n import SOURCE_LANGUAGE, catalog_path, language_name
from ..render import RenderedIssue
from ..render.build import sample_message
from ..render.issue import render_editions
from ..sources.links import link_key

_TEMPLATE_MARKERS = ("{{", "{%")


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _own(issue: Issue, key: str) -> Iterator[Item]:
    """Every item, and every translation whose ``key`` differs from its item's (an
    inherited value is checked once, on the item that sets it)."""
    for item, version in issue.items_with_translations():
        if version is item or getattr(version, key) != getattr(item, key):
            yield version


def check_urls(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in {id(i): i for key in ("link", "image") for i in _own(issue, key)}.values():
        if item.link and not _absolute_url(item.link):
            yield Finding("error", f"link must be an absolute http(s) URL, got {item.link!r}", item.path, item.lines.get("link"))
        if item.image and not _absolute_url(item.image):
            yield Finding("error", f"image must be an absolute URL, got {item.image!r}", item.path, item.lines.get("image"))
        elif item.image and urlsplit(item.image).scheme != "https":
            yield Finding("error", "image must be an https URL: mail clients block or warn about plain http images", item.path, item.lines.get("image"))


def check_image_alt(issue: Issue, settings: Settings) -> Iterable[Finding]:
    for item in _own(issue, "image"):
        if item.image and not item.image_alt:
            yield Finding("error", "image has no image_alt text (screen readers and blocked images need it)", item.path, item.lines.get("image"))


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


def check_template_leftovers(issue: Issue, settings: Settings) -> Iterable[Finding]:
    issue_toml = issue.path / "issue.toml"
    texts = [(key, getattr(issue, key), issue.lines.get(key)) for key in ISSUE_TEXT_KEYS]
    texts += [(f"{language}.{key}", value, issue.translation_lines.get(language, {}).get(key))
              for language, text in issue.translations.items() for key, value in text.items()]
    for key, value, line in texts:
        marker = _template_marker(value)
        if marker:
            yield Finding("warning", f"{key} contains {marker!r}: an unresolved template variable?", issue_toml, line)
    for item, version in issue.items_with_translations():
        if version is not item and version.body == item.body and version.title == item.title:
            continue
        item = version
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
    for item in _own(issue, "draft"):
        if item.draft:
            yield Finding("warning", "item is still a draft (draft = true): delete the draft line to keep it, or delete the item", item.path, item.lines.get("draft"))


def check_translations(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """Per language: issue text and items with no translation, and missing catalogs."""
    if len(issue.languages) < 2:
        return
    default, issue_toml = issue.languages[0], issue.path / "issue.toml"
    omit = settings.table("i18n").get("fallback") == "omit"
    missing_items = untranslated(issue)
    for language in issue.languages[1:]:
        text, lines = issue.translations.get(language, {}), issue.translation_lines.get(language, {})
        keys = [key for key in ISSUE_TEXT_KEYS if getattr(issue, key) and key not in text]
        keys += [f"section {n}" for n, s in enumerate(issue.sections, 1) if s.title and "title" not in s.translations.get(language, {})]
        if keys:
            yield Finding("warning", f"no {language} text for {', '.join(keys)} (in [{language}] and each section's "
                                     f"{language}.title): {language} readers get the {default} text", issue_toml, lines.get("") or 1)
        for item in missing_items[language]:
            result = f"left out of the {language} edition" if omit else f"{language} readers get it in {language_name(default, 'en')}"
            yield Finding("warning", f"not translated into {language} (no {translation_path(item.path, language).name}): {result}", item.path, 1)
        if language.split("-")[0] != SOURCE_LANGUAGE and catalog_path(settings.locale_dir, language) is None:
            yield Finding("warning", f"no catalog for {language} ({settings.locale_dir}/{language}/LC_MESSAGES/digest.po): "
                                     "its interface text (links, footer) stays English", issue_toml, issue.lines.get("languages"))


def check_size(issue: Issue, settings: Settings, editions: Mapping[str, RenderedIssue]) -> Iterable[Finding]:
    """Gmail's clip limit, measured on each edition as the sample member gets it."""
    for language, rendered in editions.items():
        size = len(sample_message(rendered, settings).html.encode("utf-8"))
        if size > settings.clip_bytes:
            which = f"of the {language} edition " if len(editions) > 1 else ""
            yield Finding("error", f"HTML {which}is {size:,} bytes, over Gmail's clipping limit of {settings.clip_bytes:,}", issue.path / "issue.toml")


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
    check_translations,
]


@dataclass(frozen=True)
class CheckedIssue:
    """An issue's findings and, when it rendered, its editions (language -> rendering)."""

    findings: list[Finding]
    issue: Issue | None = None
    editions: Mapping[str, RenderedIssue] = field(default_factory=dict)
    error: DigestError | None = None  # what kept it from rendering


def check_issue(folder: str | Path, settings: Settings, links: bool = False,
                progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """All findings for an issue folder; rendering checks run only on a clean load, and
    with ``links`` every link and image is also fetched (``progress(done, total)`` is
    told as each answers)."""
    return check_and_render(folder, settings, links=links, progress=progress).findings


def check_and_render(folder: str | Path, settings: Settings, env: jinja2.Environment | None = None,
                     links: bool = False, progress: Callable[[int, int], None] | None = None) -> CheckedIssue:
    """Load, check and render every edition once; the findings include the size check
    of those very renderings."""
    findings: list[Finding] = []
    try:
        issue = load_issue(folder, findings)
    except ContentError as exc:
        return CheckedIssue([*findings, Finding("error", exc.message, exc.path or Path(folder), exc.line)], error=exc)
    first_error = next((f for f in findings if f.severity == "error"), None)
    for check in ISSUE_CHECKS:
        findings.extend(check(issue, settings))
    if first_error is not None:
        return CheckedIssue(findings, issue, error=ContentError(first_error.message, first_error.path, first_error.line))
    try:
        editions = render_editions(issue, settings, env)
    except DigestError as exc:
        findings.append(Finding("error", str(exc), issue.path / "issue.toml"))
        return CheckedIssue(findings, issue, error=exc)
    findings.extend(check_size(issue, settings, editions))
    if links:
        from ..sources.linkcheck import check_links  # requests, only when links are checked

        findings.extend(check_links(issue, settings, progress))
    return CheckedIssue(findings, issue, editions)
