"""The audience of a send, fixed when the send starts: who it goes to, in order.

A send's members (after de-duplication and suppression) are written here once, with
their name, language and every field, and with where they came from (the source and a
hash of it); resuming, ``status`` and every worker read this snapshot, never the members
file again, so a file edited or swapped mid-send cannot change who the send is for.
Rows the source could not give (bad address, duplicate, suppressed) are kept too, with
their line, so a later run can report them without reading the source again.

The SQL is plain and parameterised (keyset pagination on ``position``) so another
engine can run it unchanged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from .database import LedgerDatabase, utc_now


@dataclass(frozen=True)
class AudienceInfo:
    """What a snapshot was taken from, and how big it is."""

    send_id: int
    source: str
    source_hash: str
    members: int
    skipped: int
    taken_at: str


@dataclass(frozen=True)
class AudienceRow:
    """One member of a snapshot, with what the ledger knows of them for this send."""

    position: int
    email: str
    name: str
    language: str
    fields: dict[str, str]
    line: int
    state: str = ""        # "" when never tried
    message_id: str = ""


@dataclass(frozen=True)
class SkippedRow:
    line: int
    email: str
    kind: str
    reason: str


@dataclass(frozen=True)
class AudienceBlock:
    """Consecutive rows of a source, as written into a snapshot; members carry
    ``email``, ``name``, ``language``, ``fields`` and ``line``."""

    members: Sequence[Any]
    skipped: Sequence[SkippedRow]


class AudienceStore(LedgerDatabase):
    """Audience snapshots, on the ledger's connection."""

    def audience(self, send_id: int) -> AudienceInfo | None:
        row = self.db.execute(
            "SELECT send_id, source, source_hash, members, skipped, taken_at FROM audiences WHERE send_id = ?", (send_id,)
        ).fetchone()
        return AudienceInfo(*row) if row else None

    def clear_audience(self, send_id: int) -> None:
        """Forget a snapshot (a new one replaces it, or the send was not confirmed)."""
        with self.transaction():
            self._clear(send_id)

    def _clear(self, send_id: int) -> None:
        for table in ("audience_members", "audience_skipped", "audiences"):
            self.db.execute(f"DELETE FROM {table} WHERE send_id = ?", (send_id,))

    def write_audience(self, send_id: int, blocks: Iterable[AudienceBlock], source: str,
                       source_hash: Callable[[], str]) -> AudienceInfo:
        """Replace the send's snapshot in one transaction: all of it or none of it.
        ``blocks`` stream the members in sending order; ``source_hash`` is asked once
        every block was read (a hash computed while reading the source)."""
        members = skipped = 0
        with self.transaction():
            self._clear(send_id)
            for block in blocks:
                self.db.copy_rows(  # COPY on PostgreSQL: a million members load in seconds
                    "audience_members", ("send_id", "position", "email", "name", "language", "fields", "line"),
                    [(send_id, members + n, m.email, m.name, m.language, json.dumps(m.fields, ensure_ascii=False), m.line)
                     for n, m in enumerate(block.members, 1)],
                )
                self.db.executemany(
                    "INSERT INTO audience_skipped (send_id, line, email, kind, reason) VALUES (?, ?, ?, ?, ?)",
                    [(send_id, s.line, s.email, s.kind, s.reason) for s in block.skipped],
                )
                members += len(block.members)
                skipped += len(block.skipped)
            self.db.execute(
                "INSERT INTO audiences (send_id, source, source_hash, members, skipped, taken_at) VALUES (?, ?, ?, ?, ?, ?)",
                (send_id, source, source_hash(), members, skipped, utc_now()),
            )
        info = self.audience(send_id)
        assert info is not None
        return info

    def audience_block(self, send_id: int, after: int, limit: int = 500) -> list[AudienceRow]:
        """The next ``limit`` members after position ``after``, with their delivery state."""
        rows = self.db.execute(
            "SELECT a.position, a.email, a.name, a.language, a.fields, a.line, COALESCE(d.state, ''), "
            "COALESCE(d.message_id, '') FROM audience_members a "
            "LEFT JOIN deliveries d ON d.send_id = a.send_id AND d.email = LOWER(a.email) "
            "WHERE a.send_id = ? AND a.position > ? ORDER BY a.position LIMIT ?",
            (send_id, after, limit),
        ).fetchall()
        return [AudienceRow(position, email, name, language, json.loads(fields), line, state, message_id)
                for position, email, name, language, fields, line, state, message_id in rows]

    def audience_rows(self, send_id: int, block: int = 500) -> Iterator[AudienceRow]:
        """Every member of the snapshot in order, a block at a time."""
        after = 0
        while rows := self.audience_block(send_id, after, block):
            yield from rows
            after = rows[-1].position

    def skipped_rows(self, send_id: int, limit: int = 5) -> list[SkippedRow]:
        rows = self.db.execute(
            "SELECT line, email, kind, reason FROM audience_skipped WHERE send_id = ? ORDER BY line LIMIT ?", (send_id, limit)
        ).fetchall()
        return [SkippedRow(*row) for row in rows]

    def skipped_counts(self, send_id: int) -> dict[str, int]:
        rows = self.db.execute("SELECT kind, COUNT(*) FROM audience_skipped WHERE send_id = ? GROUP BY kind", (send_id,))
        return dict(rows.fetchall())

    def audience_progress(self, send_id: int) -> tuple[int, int]:
        """(members of the snapshot not yet final, members already final)."""
        done = self.db.execute(
            "SELECT COUNT(*) FROM audience_members a JOIN deliveries d ON d.send_id = a.send_id AND d.email = LOWER(a.email) "
            "WHERE a.send_id = ? AND d.state IN ('sent', 'queued', 'failed', 'suppressed')", (send_id,)
        ).fetchone()[0]
        info = self.audience(send_id)
        total = info.members if info else 0
        return total - done, done
