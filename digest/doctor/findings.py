"""What the doctor reports: small frozen findings, each saying what is wrong and the
DNS record or setting that fixes it, gathered in a report whose errors decide the exit
status (and, before a send, whether the send goes ahead)."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass
from typing import Any, Iterable


class Severity(str, enum.Enum):
    ERROR = "error"      # mail will fail SPF/DKIM/DMARC or the connection: exit 1, a send stops
    WARNING = "warning"  # works, but worth changing
    INFO = "info"        # what was found, for the record


@dataclass(frozen=True)
class Finding:
    """One result: ``code`` is stable (``spf-plus-all``) for scripts and tests; ``check``
    is its family (``spf``, ``dkim``, ``dmarc``, ``bimi``, ``mx``, ``smtp``, ``dns``)."""

    code: str
    severity: Severity
    subject: str   # the domain, DNS name or host the finding is about
    problem: str   # what is wrong (for INFO: what was found)
    fix: str = ""  # the record or setting that fixes it

    @property
    def check(self) -> str:
        return self.code.split("-", 1)[0]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["check"] = self.check
        return data


def error(code: str, subject: str, problem: str, fix: str = "") -> Finding:
    return Finding(code, Severity.ERROR, subject, problem, fix)


def warning(code: str, subject: str, problem: str, fix: str = "") -> Finding:
    return Finding(code, Severity.WARNING, subject, problem, fix)


def info(code: str, subject: str, problem: str) -> Finding:
    return Finding(code, Severity.INFO, subject, problem)


@dataclass(frozen=True)
class Report:
    """Every finding of one doctor run, in the order the checks ran."""

    findings: tuple[Finding, ...]
    summary: str = ""  # what was checked: the From address, the backend, the DKIM key

    @classmethod
    def of(cls, findings: Iterable[Finding], summary: str = "") -> "Report":
        return cls(tuple(findings), summary)

    def with_severity(self, severity: Severity) -> list[Finding]:
        return [f for f in self.findings if f.severity is severity]

    @property
    def errors(self) -> list[Finding]:
        return self.with_severity(Severity.ERROR)

    @property
    def warnings(self) -> list[Finding]:
        return self.with_severity(Severity.WARNING)

    def codes(self, *severities: Severity) -> set[str]:
        """The codes found, of the given severities (all when none are given)."""
        return {f.code for f in self.findings if not severities or f.severity in severities}

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "errors": len(self.errors), "warnings": len(self.warnings),
                "findings": [f.to_dict() for f in self.findings]}
