"""The preflight: every finding about an issue, and the gate ``build`` and ``send`` pass.

``check_issue`` collects what ``digest check`` prints and the preview shows: the
loader's findings, the content checks (``content.py``: what the editor wrote, at its
file and line), the theme's contrast, and the checks of the rendered sample message
(``markup.py``), which run only when the issue loads cleanly. Two more run only when
asked, being slow or needing the outside world: ``--links`` fetches every URL, and
SpamAssassin scores the message (``spam.py``).

``preflight`` is the gate: it raises ``PreflightError`` if any finding is an error, so
``build`` and ``send`` refuse exactly what ``check`` reports as errors (drafts are
errors for a send), and it hands back the rendered sample so ``build`` renders once.

A new check is one function appended to ``CONTENT_CHECKS`` or ``MESSAGE_CHECKS``; the
CLI, the preview and the gate show it without change.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from ..config import Settings
from ..content import Finding, Issue, load_issue
from ..errors import ContentError, DigestError, PreflightError
from .content import CONTENT_CHECKS, check_drafts
from .contrast import check_theme_contrast
from .markup import MESSAGE_CHECKS, RenderedSample, render_sample

ISSUE_CHECKS = [*CONTENT_CHECKS, check_theme_contrast]
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class CheckReport:
    """What a preflight found, and the issue and sample it rendered (when it loaded)."""

    findings: tuple[Finding, ...]
    issue: Issue | None = None
    sample: RenderedSample | None = None

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


def run_checks(folder: str | Path, settings: Settings, *, links: bool = False, spamassassin: bool = False,
               for_send: bool = False, env: jinja2.Environment | None = None) -> CheckReport:
    """Every finding for an issue folder. ``for_send`` makes drafts errors."""
    findings: list[Finding] = []
    try:
        issue = load_issue(folder, findings)
    except ContentError as exc:
        return CheckReport((*findings, Finding("error", exc.message, exc.path or Path(folder), exc.line)))
    loaded_cleanly = not any(f.severity == "error" for f in findings)
    for check in ISSUE_CHECKS:
        found = list(check(issue, settings))
        if for_send and check is check_drafts:
            found = [replace(f, severity="error", message=f"{f.message} (send refuses drafts)") for f in found]
        findings.extend(found)
    sample = None
    if loaded_cleanly:
        try:
            sample = render_sample(issue, settings, env)
        except DigestError as exc:
            findings.append(Finding("error", str(exc), issue.path / "issue.toml"))
        else:
            for message_check in MESSAGE_CHECKS:
                findings.extend(message_check(sample))
            if spamassassin:
                from .spam import check_spamassassin

                findings.extend(check_spamassassin(sample))
        if links:
            from ..sources.linkcheck import check_links  # requests, only when links are checked

            findings.extend(check_links(issue, settings))
    return CheckReport(tuple(findings), issue, sample)


def check_issue(folder: str | Path, settings: Settings, links: bool = False, spamassassin: bool = False,
                for_send: bool = False) -> list[Finding]:
    """All findings for an issue folder (see ``run_checks``)."""
    return list(run_checks(folder, settings, links=links, spamassassin=spamassassin, for_send=for_send).findings)


def preflight(folder: str | Path, settings: Settings, for_send: bool = False,
              env: jinja2.Environment | None = None) -> CheckReport:
    """The gate before ``build`` and ``send``: the report if it has no errors, else
    ``PreflightError`` naming the first and how many there are."""
    report = run_checks(folder, settings, for_send=for_send, env=env)
    if report.errors:
        raise PreflightError(report.errors, folder, "send" if for_send else "build")
    return report
