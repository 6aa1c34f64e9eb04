"""Send runs and deliveries: one run per issue, one row per member.

A member's row says ``sending`` (intent, with our Message-ID and the member's language)
before the backend is handed the message and ``sent``/``queued``/``failed``/``deferred``
once the provider answered, so a crash leaves only the in-flight rows uncertain. A
member taken into the audience but suppressed before their turn is ``suppressed``.

The SQL is plain and parameterised so another engine can run it unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from .database import LedgerDatabase, marks, utc_now

SENDING = "sending"
DEFERRED = "deferred"
FAILED = "failed"
SUPPRESSED = "suppressed"
DELIVERED_STATES = ("sent", "queued")
FINAL_STATES = (*DELIVERED_STATES, FAILED, SUPPRESSED)  # never sent again on resume
STATES = (*DELIVERED_STATES, FAILED, DEFERRED, SENDING, SUPPRESSED)


@dataclass(frozen=True)
class SendRun:
    id: int
    issue: str
    backend: str
    runs: int
    started_at: str
    updated_at: str
    completed_at: str | None


@dataclass(frozen=True)
class Delivery:
    email: str
    state: str
    message_id: str
    provider_id: str
    attempts: int
    error: str
    updated_at: str


@dataclass(frozen=True)
class Outcome:
    """What the provider said about one member, ready to be recorded."""

    email: str
    state: str
    provider_id: str = ""
    error: str = ""


@dataclass(frozen=True)
class Intent:
    """A message about to be handed to the backend."""

    email: str
    message_id: str
    language: str = ""


class SendRuns(LedgerDatabase):
    """Send runs and their per-member deliveries, on the ledger's connection."""

    def start_send(self, issue: str, backend: str) -> SendRun:
        """The issue's send run, created on the first run and resumed on later ones."""
        now = utc_now()
        with self.transaction():
            self.db.execute(
                "INSERT INTO sends (issue, backend, started_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (issue) DO UPDATE SET runs = sends.runs + 1, backend = excluded.backend, "
                "updated_at = excluded.updated_at, completed_at = NULL",
                (issue, backend, now, now),
            )
        run = self.send_run(issue)
        assert run is not None
        return run

    def send_run(self, issue: str) -> SendRun | None:
        row = self.db.execute(
            "SELECT id, issue, backend, runs, started_at, updated_at, completed_at FROM sends WHERE issue = ?", (issue,)
        ).fetchone()
        return SendRun(*row) if row else None

    def finish_send(self, send_id: int, complete: bool) -> None:
        now = utc_now()
        with self.transaction():
            self.db.execute("UPDATE sends SET updated_at = ?, completed_at = ? WHERE id = ?",
                            (now, now if complete else None, send_id))

    def restore_run(self, before: SendRun | None, run: SendRun) -> None:
        """Undo ``start_send`` for a send that was not confirmed: a new run with no
        deliveries is removed, an earlier one gets back its state."""
        with self.transaction():
            if before is None:
                self.db.execute("DELETE FROM sends WHERE id = ? AND NOT EXISTS "
                                "(SELECT 1 FROM deliveries WHERE deliveries.send_id = sends.id)", (run.id,))
            else:
                self.db.execute("UPDATE sends SET backend = ?, runs = ?, updated_at = ?, completed_at = ? WHERE id = ?",
                                (before.backend, before.runs, before.updated_at, before.completed_at, run.id))

    def deliveries_among(self, send_id: int, emails: Sequence[str]) -> dict[str, tuple[str, str]]:
        """lower-cased address -> (state, message_id) for those of ``emails`` tried before."""
        wanted = [email.lower() for email in emails]
        rows = self.db.execute(
            f"SELECT email, state, message_id FROM deliveries WHERE send_id = ? AND email IN ({marks(wanted)})",
            [send_id, *wanted],
        )
        return {email: (state, message_id) for email, state, message_id in rows}

    def record_intent(self, send_id: int, intents: Iterable[Intent], fence: Callable[[], None] | None = None) -> None:
        """Mark members ``sending`` and commit (durably), before the backend sees them.
        ``fence`` runs inside the same transaction and raises to refuse the write (the
        run lost its lease), so no intent is written by a run that no longer holds the send."""
        now = utc_now()
        with self.transaction():
            if fence is not None:
                fence()
            self.db.executemany(
                "INSERT INTO deliveries (send_id, email, state, message_id, attempts, updated_at, language) "
                "VALUES (?, ?, 'sending', ?, 1, ?, ?) "
                "ON CONFLICT (send_id, email) DO UPDATE SET state = 'sending', message_id = excluded.message_id, "
                "attempts = deliveries.attempts + 1, updated_at = excluded.updated_at, language = excluded.language",
                [(send_id, i.email.lower(), i.message_id, now, i.language) for i in intents],
            )

    def record_outcomes(self, send_id: int, outcomes: Iterable[Outcome], durable: bool = True) -> None:
        """Record the provider's answers in one commit; ``durable=False`` leaves the fsync
        to the next durable commit (see ``LedgerDatabase.transaction``)."""
        now = utc_now()
        rows = [(o.state, o.provider_id, o.error, now, send_id, o.email.lower()) for o in outcomes]
        update = "UPDATE deliveries SET state = ?, provider_id = ?, error = ?, updated_at = ? WHERE send_id = ? AND email = ?"
        if len(rows) == 1 and not durable and self._relaxed:
            self.db.execute(update, rows[0])  # one statement is its own transaction: the per-message path
            return
        with self.transaction(durable):
            self.db.executemany(update, rows)

    def record_unsent(self, send_id: int, outcomes: Iterable[Outcome], language: str = "") -> None:
        """Record members never handed to a backend (suppressed since the audience was
        taken, or whose message cannot be built), so the send can complete."""
        now = utc_now()
        with self.transaction():
            self.db.executemany(
                "INSERT INTO deliveries (send_id, email, state, error, updated_at, language) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (send_id, email) DO UPDATE SET state = excluded.state, error = excluded.error, "
                "updated_at = excluded.updated_at",
                [(send_id, o.email.lower(), o.state, o.error, now, language) for o in outcomes],
            )

    def in_flight(self, send_id: int) -> list[tuple[str, str]]:
        """(email, message_id) of rows left ``sending`` by a run that died mid-batch."""
        return self.db.execute(
            "SELECT email, message_id FROM deliveries WHERE send_id = ? AND state = 'sending' ORDER BY email", (send_id,)
        ).fetchall()

    def counts(self, send_id: int) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM deliveries WHERE send_id = ? GROUP BY state", (send_id,))
        return dict(rows.fetchall())

    def unfinished(self, send_id: int, limit: int = 20) -> list[Delivery]:
        """Members not delivered (failed, deferred, uncertain), with their last error."""
        rows = self.db.execute(
            "SELECT email, state, message_id, provider_id, attempts, error, updated_at FROM deliveries "
            "WHERE send_id = ? AND state NOT IN ('sent', 'queued', 'suppressed') ORDER BY state, email LIMIT ?",
            (send_id, limit),
        )
        return [Delivery(*row) for row in rows]
