"""Who an issue goes to: the audience, snapshotted into the ledger when a send starts.

``snapshot_audience`` takes any stream of ``Member | SkippedMember`` rows (the members
store's subscribed members by default, or a members file's for a one-off send), drops duplicates and suppressed addresses, and writes the
rest into the ledger with their language and fields, in one transaction. From then on
the send, its resumes and ``status`` read the snapshot, never the source: a file edited
or swapped mid-send cannot change who the send is for.

``prepare_send`` decides between the two cases: a send in progress (a snapshot whose
run has not completed) is resumed, and only an explicit, different members source is
refused; otherwise a new snapshot is taken (members already sent this issue stay done).
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import SendRefused
from ..members.file import Member, MembersFile, SkippedMember, chunks, without_duplicates
from ..store.ledger import FINAL_STATES, AudienceBlock, AudienceInfo, SendLedger, SendRun, SkippedRow

EXAMPLES = 5


@dataclass(frozen=True)
class AudienceSource:
    """Where members come from: a name (a file's absolute path), its rows, and its hash,
    known once the rows were read (``rows_hash``) or by reading it again (``current_hash``)."""

    name: str
    rows: Callable[[], Iterable[Member | SkippedMember]]
    rows_hash: Callable[[], str]
    current_hash: Callable[[], str]


def members_file_source(path: str | Path) -> AudienceSource:
    """The members CSV as an audience source, hashed as it is read."""
    path = Path(path).resolve()
    reading = MembersFile(path)
    return AudienceSource(str(path), reading.rows, lambda: reading.sha256, lambda: _file_hash(path))


STORE_SOURCE = "the members store"


def store_source(ledger: SendLedger) -> AudienceSource:
    """The members store's ``subscribed`` members as an audience source, hashed (address,
    name, language, fields) as they are read. Its rows change as people sign up, so it is
    never an explicit source a send in progress could be refused for."""
    digest = hashlib.sha256()

    def rows() -> Iterator[Member]:
        for member in ledger.iter_subscribed():
            record = [member.email, member.name, member.language, sorted(member.fields.items())]
            digest.update(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
            yield member

    return AudienceSource(STORE_SOURCE, rows, digest.hexdigest, digest.hexdigest)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def skip_kind(skipped: SkippedMember) -> str:
    if skipped.reason.startswith("duplicate"):
        return "duplicate"
    return "suppressed" if skipped.reason == "suppressed" else "invalid"


def snapshot_audience(ledger: SendLedger, run: SendRun, rows: Iterable[Member | SkippedMember], *, source: str,
                      source_hash: str | Callable[[], str], block: int = 500) -> AudienceInfo:
    """Write the send's audience into the ledger: the members of ``rows`` without
    duplicates (case-insensitive, first kept) and suppressed addresses, in order, with
    every skipped row and its line. All or nothing; replaces an earlier snapshot."""
    hash_of = source_hash if callable(source_hash) else (lambda: source_hash)
    return ledger.write_audience(run.id, _blocks(ledger, rows, block), source, hash_of)


def _blocks(ledger: SendLedger, rows: Iterable[Member | SkippedMember], block: int) -> Iterator[AudienceBlock]:
    for chunk in chunks(without_duplicates(rows), block):
        emails = [row.email for row in chunk if isinstance(row, Member)]
        suppressed = ledger.suppressed_among(emails) if emails else set()
        members: list[Member] = []
        skipped: list[SkippedRow] = []
        for row in chunk:
            if isinstance(row, SkippedMember):
                skipped.append(SkippedRow(row.line, row.email, skip_kind(row), row.reason))
            elif row.email.lower() in suppressed:
                skipped.append(SkippedRow(row.line, row.email, "suppressed", "suppressed"))
            else:
                members.append(row)
        yield AudienceBlock(members, skipped)


@dataclass(frozen=True)
class SendPlan:
    """A send about to run: its run, its audience and how much is left."""

    run: SendRun
    audience: AudienceInfo
    resumed: bool          # the snapshot of a send in progress, not a new one
    to_send: int
    done: int
    skipped: dict[str, int]
    examples: list[SkippedRow]


def prepare_send(ledger: SendLedger, issue_slug: str, backend_name: str, source: AudienceSource,
                 explicit: bool) -> SendPlan:
    """Resume the send in progress, or take a new snapshot from ``source``. An
    ``explicit`` source that is not the snapshot's (another file, or the same file
    changed) for a send in progress is refused: resuming must not change its audience."""
    run = ledger.send_run(issue_slug)
    info = ledger.audience(run.id) if run is not None else None
    resumed = run is not None and info is not None and run.completed_at is None
    if resumed and explicit:
        assert info is not None
        _refuse_other_source(issue_slug, info, source)
    run = ledger.start_send(issue_slug, backend_name)
    if not resumed:
        info = snapshot_audience(ledger, run, source.rows(), source=source.name, source_hash=source.rows_hash)
    assert info is not None
    to_send, done = ledger.audience_progress(run.id)
    return SendPlan(run, info, resumed, to_send, done, ledger.skipped_counts(run.id),
                    ledger.skipped_rows(run.id, EXAMPLES))


def _refuse_other_source(issue_slug: str, info: AudienceInfo, source: AudienceSource) -> None:
    if source.name != info.source:
        why = f"--members {source.name} is another file"
    elif source.current_hash() != info.source_hash:
        why = f"{source.name} has changed since"
    else:
        return
    raise SendRefused(
        f"a send of {issue_slug} is in progress for the audience taken from {info.source} at {info.taken_at} "
        f"({info.members:,} members, sha256 {info.source_hash[:12]}), and {why}: run `digest send` for the issue "
        f"without --members to finish that send; members added since are sent by the next run after it completes")


@dataclass
class Audience:
    """Who an issue would go to, counted before anything is sent (for a dry run)."""

    to_send: int = 0
    done: int = 0      # delivered or refused for good in an earlier run
    skipped: Counter = field(default_factory=Counter)
    examples: list[SkippedRow] = field(default_factory=list)


def survey(rows: Iterable[Member | SkippedMember], ledger: SendLedger | None, issue_slug: str,
           block: int = 500) -> Audience:
    """Count members to send, already done and skipped, streaming the rows once and
    writing nothing (``--dry-run``)."""
    audience = Audience()
    run = ledger.send_run(issue_slug) if ledger is not None else None
    for chunk in chunks(without_duplicates(rows), block):
        emails = [row.email for row in chunk if isinstance(row, Member)]
        suppressed = ledger.suppressed_among(emails) if ledger is not None and emails else set()
        known = ledger.deliveries_among(run.id, emails) if ledger is not None and run is not None and emails else {}
        for row in chunk:
            if isinstance(row, Member) and row.email.lower() in suppressed:
                row = SkippedMember(row.line, row.email, "suppressed")
            if isinstance(row, SkippedMember):
                audience.skipped[skip_kind(row)] += 1
                if len(audience.examples) < EXAMPLES:
                    audience.examples.append(SkippedRow(row.line, row.email, skip_kind(row), row.reason))
            elif known.get(row.email.lower(), ("", ""))[0] in FINAL_STATES:
                audience.done += 1
            else:
                audience.to_send += 1
    return audience
