"""The sample message scored by SpamAssassin, when it is installed.

Runs ``spamassassin -L -t``: local tests only (no DNS or network checks, so the score
is about the message itself, and it works offline and in CI) with the report of the
rules that fired. It reads the rules installed with the package (Debian's, or those
``sa-update`` fetched); no user preferences are read, and the Bayes filter (which
learns from what it sees, so its score would drift from run to run) is off. The score is advice:
a positive one is a warning listing the rules to fix, never an error, since the real
verdict also depends on the sender's reputation and DNS records, which local tests
cannot see.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Iterable

from ..content import Finding
from .markup import RenderedSample

TIMEOUT_SECONDS = 120
_SUMMARY = re.compile(r"Content analysis details:\s+\((-?[\d.]+) points, (-?[\d.]+) required\)")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


@dataclass(frozen=True)
class SpamRule:
    name: str
    points: float
    description: str


@dataclass(frozen=True)
class SpamReport:
    score: float
    required: float
    rules: tuple[SpamRule, ...]

    def describe(self) -> str:
        rules = ", ".join(f"{r.name} {r.points:+.1f}" for r in self.rules) or "none"
        return f"SpamAssassin (local tests) scores the sample message {self.score:.1f} (spam at {self.required:.1f}); rules: {rules}"


def spamassassin_report(raw: bytes) -> SpamReport | None:
    """The report for one RFC 5322 message, or None when spamassassin is not installed."""
    program = shutil.which("spamassassin")
    if program is None:
        return None
    completed = subprocess.run(
        [program, "-L", "-t", "-p", "/dev/null", "--cf=use_bayes 0", "--cf=bayes_auto_learn 0"], input=raw, capture_output=True, timeout=TIMEOUT_SECONDS, check=False,
    )
    return parse_report(completed.stdout.decode("utf-8", "replace"))


def parse_report(output: str) -> SpamReport:
    summary = _SUMMARY.search(output)
    if summary is None:
        raise ValueError("spamassassin printed no report")
    rules: list[SpamRule] = []
    table = output[summary.end():].split("\n---- ", 1)[-1].split("\n", 1)[-1]
    for line in table.splitlines():
        match = _RULE.match(line)
        if match:
            rules.append(SpamRule(match.group(2), float(match.group(1)), " ".join(match.group(3).split())))
        elif line.startswith(" " * 20) and rules:
            last = rules[-1]
            rules[-1] = SpamRule(last.name, last.points, f"{last.description} {' '.join(line.split())}")
        elif not line.strip():
            break
    return SpamReport(float(summary.group(1)), float(summary.group(2)), tuple(rules))


def check_spamassassin(sample: RenderedSample) -> Iterable[Finding]:
    where = sample.issue.path / "issue.toml"
    try:
        report = spamassassin_report(sample.message.raw)
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        yield Finding("note", f"SpamAssassin could not score the message ({exc})", where)
        return
    if report is None:
        yield Finding("note", "spamassassin is not installed: no spam score (Debian: apt-get install spamassassin)", where)
        return
    scored = [r for r in report.rules if r.points > 0]
    if report.score > 0:
        details = "; ".join(f"{r.name} ({r.points:+.1f}): {r.description}" for r in scored)
        yield Finding("warning", f"{report.describe()} — fix: {details}", where)
    else:
        yield Finding("note", report.describe(), where)
