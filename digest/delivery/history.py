"""Before a send that the ledger knows nothing about: has this issue been sent before?

A ledger with no run for the issue is normal for a first send, and a disaster when the
ledger was deleted or moved: everyone would be mailed again. The evidence looked for is
the trail of earlier sends (``store/trail.py``: which ledger recorded the issue) and what
the backend itself can show (the outbox's files). With any evidence the send is refused
until ``--new-ledger`` confirms it, and then the findings are said out loud.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import SendRefused
from ..store.trail import earlier_send
from .backends.base import Backend


def earlier_send_findings(project: Path, issue_slug: str, ledger_path: Path, ledger_existed: bool,
                          backend: Backend) -> list[str]:
    """What shows that ``issue_slug`` was sent before, when the ledger has no run for it."""
    findings = []
    entry = earlier_send(project, issue_slug)
    if entry is not None:
        where = Path(entry.ledger)
        if where != ledger_path.resolve():
            state = "which is missing" if not where.exists() else "not the ledger configured now"
            findings.append(f"{issue_slug} was sent at {entry.at} to {entry.members:,} member(s) via {entry.backend}, "
                            f"recorded in {where}, {state} ({ledger_path})")
        else:
            state = "which was missing" if not ledger_existed else "which has no record of it now"
            findings.append(f"{issue_slug} was sent at {entry.at} to {entry.members:,} member(s) via {entry.backend}, "
                            f"recorded in {where}, {state}")
    count = backend.earlier_sends(issue_slug)
    if count:
        findings.append(f"{backend.describe()} already holds {count:,} message(s) of {issue_slug}")
    return findings


def refuse_without_ledger(issue_slug: str, findings: list[str]) -> None:
    raise SendRefused(f"{'; '.join(findings)}: sending now would mail those members again. Restore the ledger "
                      f"(or set [ledger] path to it), or run with --new-ledger to send {issue_slug} as a new send; "
                      f"nothing was sent")
