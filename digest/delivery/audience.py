"""Who an issue goes to: the members store's subscribed members (or, for a one-off
send, a members file), without duplicates and suppressed addresses, each member with
what the ledger knows of them for this send."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ..members.file import Member, SkippedMember, chunks, iter_members, without_duplicates
from ..store.ledger import FINAL_STATES, SendLedger


@dataclass
class Audience:
    """Who an issue would go to, counted before anything is sent."""

    to_send: int = 0
    done: int = 0      # delivered or refused for good in an earlier run
    skipped: Counter = field(default_factory=Counter)
    examples: list[SkippedMember] = field(default_factory=list)

    EXAMPLES = 5


@dataclass(frozen=True)
class Candidate:
    """A member who may get the issue, with what the ledger knows of them for it."""

    member: Member
    state: str = ""       # "" when never tried
    message_id: str = ""

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES


def member_rows(source: str | Path | None, ledger: SendLedger | None) -> Iterator[Member | SkippedMember]:
    """A members file's rows, or (``source`` None) the store's subscribed members."""
    if source is None:
        return ledger.iter_subscribed() if ledger is not None else iter(())
    return iter_members(source)


def select_members(source: str | Path | None, ledger: SendLedger | None, send_id: int | None = None,
                   block: int = 500) -> Iterator[Candidate | SkippedMember]:
    """The members (file, or the store when ``source`` is None) without duplicates and
    suppressed addresses, each with its ledger state; the ledger is asked a block of
    members at a time."""
    for rows in chunks(without_duplicates(member_rows(source, ledger)), block):
        emails = [row.email for row in rows if isinstance(row, Member)]
        suppressed = ledger.suppressed_among(emails) if ledger is not None and emails else set()
        known = ledger.deliveries_among(send_id, emails) if ledger is not None and send_id is not None and emails else {}
        for row in rows:
            if isinstance(row, SkippedMember):
                yield row
            elif row.email.lower() in suppressed:
                yield SkippedMember(row.line, row.email, "suppressed")
            else:
                yield Candidate(row, *known.get(row.email.lower(), ("", "")))


def skip_kind(skipped: SkippedMember) -> str:
    if skipped.reason.startswith("duplicate"):
        return "duplicate"
    return "suppressed" if skipped.reason == "suppressed" else "invalid"


def survey(source: str | Path | None, ledger: SendLedger | None, issue_slug: str) -> Audience:
    """Count members to send, already done and skipped, streaming the members once."""
    audience = Audience()
    run = ledger.send_run(issue_slug) if ledger is not None else None
    for row in select_members(source, ledger, run.id if run is not None else None):
        if isinstance(row, SkippedMember):
            audience.skipped[skip_kind(row)] += 1
            if len(audience.examples) < Audience.EXAMPLES:
                audience.examples.append(row)
            continue
        if row.done:
            audience.done += 1
        else:
            audience.to_send += 1
    return audience
