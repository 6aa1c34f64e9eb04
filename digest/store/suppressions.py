"""Suppressions and soft-bounce counts: who no send may mail, and who is close to it.

Every send honours the suppression list (unsubscribes, bounces, complaints, manual);
the unsubscribe app and the bounce imports write it. Soft bounces count per address
until one in a row too many suppresses it; a later success starts the count again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from .database import LedgerDatabase, marks, utc_now


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str
    source: str
    created_at: str


class SuppressionList(LedgerDatabase):
    """The suppression list and soft-bounce runs, on the ledger's connection."""

    def suppress(self, email: str, reason: str, source: str = "") -> bool:
        """Add an address to the suppression list; False if it was already there."""
        cursor = self.db.execute(
            "INSERT INTO suppressions (email, reason, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (email.strip().lower(), reason, source, utc_now()),
        )
        return cursor.rowcount == 1

    def is_suppressed(self, email: str) -> bool:
        row = self.db.execute("SELECT 1 FROM suppressions WHERE email = ?", (email.strip().lower(),)).fetchone()
        return row is not None

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        """The lower-cased addresses of ``emails`` (a block of a few hundred) that are suppressed."""
        wanted = [email.lower() for email in emails]
        rows = self.db.execute(f"SELECT email FROM suppressions WHERE email IN ({marks(wanted)})", wanted)
        return {email for (email,) in rows}

    def suppressions(self) -> Iterator[Suppression]:
        for row in self.db.execute("SELECT email, reason, source, created_at FROM suppressions ORDER BY created_at, email"):
            yield Suppression(*row)

    def count_soft_bounce(self, email: str) -> int:
        """Add one soft bounce to the address's run and return the run's length."""
        row = self.db.execute(
            "INSERT INTO soft_bounces (email, in_a_row, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT (email) DO UPDATE SET in_a_row = soft_bounces.in_a_row + 1, updated_at = excluded.updated_at "
            "RETURNING in_a_row",
            (email.strip().lower(), utc_now()),
        ).fetchone()
        return int(row[0])

    def reset_soft_bounces(self, email: str) -> None:
        """A success for the address ends its run of soft bounces."""
        self.db.execute("DELETE FROM soft_bounces WHERE email = ?", (email.strip().lower(),))

    def soft_bounces_in_a_row(self, email: str) -> int:
        row = self.db.execute("SELECT in_a_row FROM soft_bounces WHERE email = ?", (email.strip().lower(),)).fetchone()
        return int(row[0]) if row else 0
