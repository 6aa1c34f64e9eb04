"""Suppressions and soft-bounce counts: who no send may mail, and who is close to it.

A suppression is a member's status (``unsubscribed``, ``bounced``, ``complained``) in
the members store, so the list, the web pages and every send agree; an address asked
to be forgotten is suppressed too, by its salted hash (``privacy.py``). The unsubscribe
app and the bounce imports write here. Soft bounces count per address until one in a
row too many suppresses it; a later success starts the count again.

Ledgers made before the members store kept a ``suppressions`` table; its rows become
statuses the first time such a ledger is opened, and the table goes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from .database import marks, utc_now
from .members import BOUNCED, COMPLAINED, SUPPRESSED_STATUSES, UNSUBSCRIBED, MemberStore
from .privacy import FORGOTTEN_PREFIX, MemberPrivacy

# The old table's reasons as statuses; 'manual' and 'import' are unsubscribes (the reason is kept).
STATUS_FOR_REASON = {"unsubscribe": UNSUBSCRIBED, "bounce": BOUNCED, "complaint": COMPLAINED,
                     "manual": UNSUBSCRIBED, "import": UNSUBSCRIBED}


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str
    source: str
    created_at: str


class SuppressionList(MemberPrivacy, MemberStore):
    """The suppression list (members' statuses) and soft-bounce runs, on the ledger's connection."""

    def suppress(self, email: str, reason: str, source: str = "") -> bool:
        """Stop mail to an address (a member or not); False if it was suppressed already,
        in which case the first reason stays. A forgotten address is suppressed by its
        hash already and gets no row again."""
        email = email.strip().lower()
        if self.is_forgotten(email):
            return False
        now = utc_now()
        # One statement, so it is atomic alone and also inside a caller's transaction.
        cursor = self.db.execute(
            "INSERT INTO members (email, address, status, status_reason, status_source, status_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (email) DO UPDATE SET status = excluded.status, status_reason = excluded.status_reason, "
            "status_source = excluded.status_source, status_at = excluded.status_at, updated_at = excluded.updated_at "
            f"WHERE members.status NOT IN ({marks(SUPPRESSED_STATUSES)})",
            (email, email, STATUS_FOR_REASON.get(reason, UNSUBSCRIBED), reason, source, now, now, now, *SUPPRESSED_STATUSES),
        )
        return cursor.rowcount == 1

    def is_suppressed(self, email: str) -> bool:
        return bool(self.suppressed_among([email.strip()]))

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        """The lower-cased addresses of ``emails`` (a block of a few hundred) that must not
        be mailed: suppressed members and forgotten addresses."""
        wanted = sorted({email.lower() for email in emails})
        if not wanted:
            return set()
        rows = self.db.execute(
            f"SELECT email FROM members WHERE email IN ({marks(wanted)}) AND status IN ({marks(SUPPRESSED_STATUSES)})",
            [*wanted, *SUPPRESSED_STATUSES],
        )
        marked = {email for email in wanted if email.startswith(FORGOTTEN_PREFIX)}  # a forgotten row in a snapshot
        return {email for (email,) in rows} | self.forgotten_among(wanted) | marked

    def suppressions(self) -> Iterator[Suppression]:
        rows = self.db.execute(
            f"SELECT email, status_reason, status_source, status_at FROM members WHERE status IN ({marks(SUPPRESSED_STATUSES)}) "
            "ORDER BY status_at, email", SUPPRESSED_STATUSES)
        for row in rows:
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
