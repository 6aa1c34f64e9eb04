"""``digest build``: write an issue's email (HTML, text, .eml) and web page to a folder.

The writer at the edge of the pipeline: everything before it is pure, so it only
writes what the preflight (``digest.checks.preflight``) already rendered and
personalised for the sample member, plus the web page.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..config import Settings
from ..content import Issue
from ..members.tokens import unsubscribe_secret
from . import RenderedIssue, render_web_page
from .issue import build_environment
from .mime import MessageFactory, OutgoingMessage


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    out_dir: Path
    files: dict[str, Path]
    html_bytes: int
    clip_bytes: int

    @property
    def over_clip_limit(self) -> bool:
        return self.html_bytes > self.clip_bytes


def sample_message(rendered: RenderedIssue, settings: Settings) -> OutgoingMessage:
    """The issue as the configured sample member would receive it."""
    factory = MessageFactory(rendered, settings, unsubscribe_secret(settings, required=False))
    newsletter = settings.newsletter
    return factory.personalise(newsletter.sample_member_email, newsletter.sample_member_name)


def write_build(issue: Issue, message: OutgoingMessage, settings: Settings, out_dir: Path | None = None,
                env: jinja2.Environment | None = None) -> BuildResult:
    """Write email.html, email.txt, email.eml (the sample member's message) and index.html."""
    web_page = render_web_page(issue, settings, env or build_environment(settings))
    out_dir = out_dir or settings.build_dir / issue.slug
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "html": out_dir / "email.html",
        "text": out_dir / "email.txt",
        "eml": out_dir / "email.eml",
        "web": out_dir / "index.html",
    }
    files["html"].write_text(message.html, encoding="utf-8")
    files["text"].write_text(message.text, encoding="utf-8")
    files["eml"].write_bytes(message.raw)
    files["web"].write_text(web_page, encoding="utf-8")
    return BuildResult(issue, out_dir, files, len(message.html.encode("utf-8")), settings.clip_bytes)
