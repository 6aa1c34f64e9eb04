"""``digest build``: write an issue's email (HTML, text, .eml) and web page to a folder,
for each of its languages.

The writer at the edge of the pipeline: everything before it is pure, so it only
writes what the preflight (``digest.checks.preflight``) already rendered and
personalised for the sample member, one edition per language, plus the web pages.
The default language's files go in the folder itself, each other language's in a
subfolder named after it (``build/2015-10/ja/``), as the archive lays out its pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

import jinja2

from ..config import Settings
from ..content import Issue
from ..members.tokens import unsubscribe_secret
from . import RenderedIssue, render_web_page
from .issue import build_environment
from .mime import MessageFactory, OutgoingMessage

if TYPE_CHECKING:
    from ..checks.markup import RenderedSample


@dataclass(frozen=True)
class BuildResult:
    issue: Issue
    out_dir: Path
    files: dict[str, Path]  # "html", "text", "eml", "web"; other languages as "ja/html" ...
    html_bytes: int  # the largest edition's
    clip_bytes: int

    @property
    def over_clip_limit(self) -> bool:
        return self.html_bytes > self.clip_bytes


def sample_message(rendered: RenderedIssue, settings: Settings) -> OutgoingMessage:
    """The issue as the configured sample member would receive it."""
    factory = MessageFactory(rendered, settings, unsubscribe_secret(settings, required=False))
    newsletter = settings.newsletter
    return factory.personalise(newsletter.sample_member_email, newsletter.sample_member_name)


def write_build(issue: Issue, samples: Mapping[str, RenderedSample], settings: Settings, out_dir: Path | None = None,
                env: jinja2.Environment | None = None) -> BuildResult:
    """Write email.html, email.txt, email.eml (the sample member's message) and
    index.html for each language's checked sample, the default language first."""
    env = env or build_environment(settings)
    out_dir = out_dir or settings.build_dir / issue.slug
    files: dict[str, Path] = {}
    sizes = []
    for index, (language, sample) in enumerate(samples.items()):
        message = sample.message
        folder_out = out_dir if index == 0 else out_dir / language
        prefix = "" if index == 0 else f"{language}/"
        folder_out.mkdir(parents=True, exist_ok=True)
        written = {
            "html": ("email.html", message.html),
            "text": ("email.txt", message.text),
            "eml": ("email.eml", message.raw),
            "web": ("index.html", render_web_page(issue, settings, env, language)),
        }
        for kind, (name, content) in written.items():
            path = folder_out / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            files[prefix + kind] = path
        sizes.append(len(message.html.encode("utf-8")))
    return BuildResult(issue, out_dir, files, max(sizes), settings.clip_bytes)
