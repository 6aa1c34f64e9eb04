"""The preflight: every finding about an issue, and the gate ``build`` and ``send`` pass.

``run_checks`` collects what ``digest check`` prints and the preview shows: the
loader's findings, the content checks (``content.py``: what the editor wrote, at its
file and line, in every language), the translation checks (``translations.py``), the
theme's contrast, and the checks of each language's rendered sample message
(``markup.py``), which run only when the issue loads cleanly. Two more run only when
asked, being slow or needing the outside world: ``--links`` fetches every URL, and
SpamAssassin scores the message (``spam.py``).

Each language is rendered once here, and the report hands those renderings back: the
preview shows and ``build`` writes the very editions that were checked.

``preflight`` is the gate: it raises ``PreflightError`` if any finding is an error, so
``build`` and ``send`` refuse exactly what ``check`` reports as errors (drafts are
errors for a send).

A new check is one function appended to ``CONTENT_CHECKS`` or ``MESSAGE_CHECKS``; the
CLI, the preview and the gate show it without change.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping

import jinja2

from ..config import Settings
from ..content import Finding, Issue, load_issue
from ..errors import ConfigError, ContentError, DigestError, PreflightError
from ..render import RenderedIssue
from ..render.issue import render_editions
from .content import CONTENT_CHECKS, check_drafts
from .contrast import check_theme_contrast
from .markup import MESSAGE_CHECKS, RenderedSample, sample_of
from .translations import check_translations

ISSUE_CHECKS = [*CONTENT_CHECKS, check_translations, check_theme_contrast]
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class CheckReport:
    """What a preflight found, and the issue and per-language samples it rendered."""

    findings: tuple[Finding, ...]
    issue: Issue | None = None
    samples: Mapping[str, RenderedSample] = field(default_factory=dict)  # language -> sample, default first
    error: DigestError | None = None  # what kept the issue from rendering

    @property
    def sample(self) -> RenderedSample | None:
        """The default language's sample."""
        return next(iter(self.samples.values()), None)

    @property
    def editions(self) -> dict[str, RenderedIssue]:
        return {language: sample.rendered for language, sample in self.samples.items()}

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


def run_checks(folder: str | Path, settings: Settings, *, links: bool = False, spamassassin: bool = False,
               for_send: bool = False, env: jinja2.Environment | None = None,
               progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Every finding for an issue folder. ``for_send`` makes drafts errors; with
    ``links`` every link and image is fetched (``progress(done, total)`` as each answers)."""
    findings: list[Finding] = []
    try:
        issue = load_issue(folder, findings)
    except ContentError as exc:
        return CheckReport((*findings, Finding("error", exc.message, exc.path or Path(folder), exc.line)), error=exc)
    first_error = next((f for f in findings if f.severity == "error"), None)
    for check in ISSUE_CHECKS:
        found = list(check(issue, settings))
        if for_send and check is check_drafts:
            found = [replace(f, severity="error", message=f"{f.message} (send refuses drafts)") for f in found]
        findings.extend(found)
    if first_error is not None:
        return CheckReport(tuple(findings), issue, error=ContentError(first_error.message, first_error.path, first_error.line))
    try:
        samples = {language: sample_of(issue, settings, rendered) for language, rendered in render_editions(issue, settings, env).items()}
    except DigestError as exc:
        findings.append(Finding("error", str(exc), issue.path / "issue.toml"))
        return CheckReport(tuple(findings), issue, error=exc)
    for sample in samples.values():
        for message_check in MESSAGE_CHECKS:
            findings.extend(f for f in message_check(sample) if f not in findings)
        if spamassassin:
            from .spam import check_spamassassin

            findings.extend(check_spamassassin(sample))
    if links:
        from ..sources.linkcheck import check_links  # requests, only when links are checked

        findings.extend(check_links(issue, settings, progress))
    return CheckReport(tuple(findings), issue, samples)


def check_issue(folder: str | Path, settings: Settings, links: bool = False, spamassassin: bool = False,
                for_send: bool = False, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """All findings for an issue folder (see ``run_checks``)."""
    return list(run_checks(folder, settings, links=links, spamassassin=spamassassin, for_send=for_send,
                           progress=progress).findings)


def preflight(folder: str | Path, settings: Settings, for_send: bool = False,
              env: jinja2.Environment | None = None) -> CheckReport:
    """The gate before ``build`` and ``send``: the report if it has no errors, else
    ``PreflightError`` naming the first and how many there are."""
    report = run_checks(folder, settings, for_send=for_send, env=env)
    if isinstance(report.error, ConfigError):
        raise report.error  # the settings are wrong, not the issue: say so as it is
    if report.errors:
        raise PreflightError(report.errors, folder, "send" if for_send else "build")
    return report
