"""What the preview server shows, rebuilt only when the files behind it change.

Each issue's preview is cached under a fingerprint of the mtimes and sizes of its
folder, the templates, the catalogs and config.toml, so a page view costs a few
``stat`` calls and a change costs one render per language: the check's size finding
measures those same renderings instead of rendering the issue again. The Jinja environment is reused while the templates are
unchanged, and config.toml is re-read when it changes. A broken edit becomes the
one-line ``DigestError`` message in the preview instead of an exception in the server.
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ..checks.preflight import run_checks
from ..config import Settings, load_settings
from ..content import Finding, Issue
from ..content.translations import untranslated
from ..errors import DigestError
from ..i18n import language_name, match_language
from ..members.file import Member, find_member
from ..render.issue import build_environment
from ..render.mime import MessageFactory, OutgoingMessage
from ..members.tokens import unsubscribe_secret

ISSUE_FILE = "issue.toml"
DARK_HEAD = '<meta name="color-scheme" content="dark"><style>:root { color-scheme: dark; }</style>'
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)


def fingerprint(*roots: Path | None) -> str:
    """A short digest of the name, mtime and size of every file under ``roots``."""
    parts: list[str] = []
    for root in roots:
        if root is None:
            continue
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                parts.append(f"{path}:missing")
                continue
            parts.append(f"{path}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=8).hexdigest()


def with_dark_scheme(html: str) -> str:
    """The email with ``color-scheme: dark`` declared, placed last in <head> so it wins.

    This darkens the document's own defaults (canvas, scrollbars). What makes the
    email's ``prefers-color-scheme: dark`` rules match is the page's ``<iframe>`` having
    ``color-scheme: dark``: browsers take a frame's preferred scheme from its embedding
    element (CSS Color Adjust), which tests/test_preview.py checks in chromium."""
    match = _HEAD_END.search(html)
    if match is None:
        return DARK_HEAD + html
    return html[:match.start()] + DARK_HEAD + html[match.start():]


@dataclass(frozen=True)
class PreviewMember:
    """The member the preview personalises for."""

    email: str
    name: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)
    language: str = ""


@dataclass(frozen=True)
class EditionPreview:
    """The issue in one language as the member would receive it."""

    language: str
    name: str  # the language's name in itself: "English", "日本語"
    html: str
    text: str
    headers: tuple[tuple[str, str], ...]

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))

    @property
    def dark_html(self) -> str:
        return with_dark_scheme(self.html)


@dataclass(frozen=True)
class IssuePreview:
    """One issue in each of its languages as a member would receive it, with its check
    findings; or the error that stopped it rendering."""

    slug: str
    version: str
    findings: tuple[Finding, ...]
    build_seconds: float
    clip_bytes: int
    member: PreviewMember
    issue: Issue | None = None
    editions: tuple[EditionPreview, ...] = ()
    member_language: str = ""  # the edition the member gets
    untranslated: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (language, item file names)
    error: str | None = None

    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors

    def edition(self, language: str | None = None) -> EditionPreview | None:
        """The edition in ``language`` (default: the member's), or None."""
        wanted = language or self.member_language
        return next((e for e in self.editions if e.language == wanted), None)


def message_headers(message: OutgoingMessage, issue: Issue) -> tuple[tuple[str, str], ...]:
    """The headers staff check before a send, in the order an inbox shows them."""
    pairs = [("From", message.from_header), ("To", message.to_header)]
    if message.reply_to:
        pairs.append(("Reply-To", message.reply_to))
    pairs += [("Subject", message.subject), ("Preheader", issue.preheader)]
    return (*pairs, *message.headers)


def build_preview(folder: Path, settings: Settings, env: jinja2.Environment, member: PreviewMember, version: str) -> IssuePreview:
    """Check and render one issue, each language once (the check measures those same
    renderings); a DigestError becomes the preview's ``error``."""
    started = time.perf_counter()
    checked = run_checks(folder, settings, env=env)
    base = dict(slug=folder.name, version=version, findings=tuple(checked.findings), clip_bytes=settings.clip_bytes, member=member)
    parts: dict[str, object]
    if checked.error is not None or checked.issue is None:
        parts = dict(error=str(checked.error))
    else:
        try:
            secret = unsubscribe_secret(settings, required=False)
            editions = []
            for language, rendered in checked.editions.items():
                message = MessageFactory(rendered, settings, secret).personalise(member.email, member.name, member.fields)
                editions.append(EditionPreview(language, language_name(language), message.html, message.text,
                                               message_headers(message, rendered.issue)))
            languages = [e.language for e in editions]
            parts = dict(issue=checked.issue, editions=tuple(editions),
                         member_language=match_language(member.language, languages, languages[0]),
                         untranslated=tuple((lang, tuple(i.path.name for i in items)) for lang, items in untranslated(checked.issue).items()))
        except DigestError as exc:
            parts = dict(error=str(exc))
    return IssuePreview(**base, **parts, build_seconds=time.perf_counter() - started)  # type: ignore[arg-type]


class PreviewState:
    """The server's shared state: current settings, the Jinja environment and the
    per-issue cache. Safe to use from the server's request threads."""

    def __init__(self, settings: Settings, member_email: str | None = None):
        self.settings = settings
        self.config_error: str | None = None
        self._config_version = fingerprint(settings.source)
        self._member_email = member_email
        self._member = self._find_member(settings)
        self._env: tuple[str, jinja2.Environment] | None = None
        self._cache: dict[str, IssuePreview] = {}
        self._lock = threading.RLock()

    def _find_member(self, settings: Settings) -> Member | None:
        if self._member_email is None:
            return None
        return find_member(settings.path("members"), self._member_email)

    @property
    def member(self) -> PreviewMember:
        if self._member is not None:
            return PreviewMember(self._member.email, self._member.name, dict(self._member.fields), self._member.language)
        newsletter = self.settings.newsletter
        return PreviewMember(newsletter.sample_member_email, newsletter.sample_member_name)

    def refresh_settings(self) -> None:
        """Re-read config.toml when it changed; keep the last good settings if it is broken."""
        with self._lock:
            version = fingerprint(self.settings.source)
            if self.settings.source is None or version == self._config_version:
                return
            self._config_version = version
            try:
                settings = load_settings(self.settings.source)
                self._member = self._find_member(settings)
            except DigestError as exc:
                self.config_error = str(exc)
                return
            self.settings, self.config_error = settings, None

    def slugs(self) -> list[str]:
        """Issue folders that exist now, newest name first; the only slugs the server routes."""
        issues_dir = self.settings.issues_dir
        if not issues_dir.is_dir():
            return []
        return sorted((p.name for p in issues_dir.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)

    def version(self, slug: str | None = None) -> str:
        """Changes whenever anything a page shows could change."""
        settings = self.settings
        folders = [settings.issues_dir / slug] if slug else [settings.issues_dir]
        return fingerprint(*folders, settings.templates_dir, settings.locale_dir, settings.source)

    def preview(self, slug: str) -> IssuePreview:
        """The cached preview of ``slug`` (one of ``slugs()``), rebuilt if its files changed."""
        with self._lock:
            self.refresh_settings()
            version = self.version(slug)
            cached = self._cache.get(slug)
            if cached is not None and cached.version == version:
                return cached
            folder = self.settings.issues_dir / slug
            try:
                env = self.environment()
            except DigestError as exc:
                preview = IssuePreview(slug, version, (), 0.0, self.settings.clip_bytes, self.member, error=str(exc))
            else:
                preview = build_preview(folder, self.settings, env, self.member, version)
            self._cache[slug] = preview
            return preview

    def environment(self) -> jinja2.Environment:
        """Reuse the compiled templates until a template changes or config moves the folder."""
        templates_dir = self.settings.templates_dir
        key = f"{templates_dir}:{fingerprint(templates_dir)}"
        if self._env is None or self._env[0] != key:
            self._env = (key, build_environment(self.settings))
        return self._env[1]
