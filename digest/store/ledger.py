"""The ledger: SQLite (WAL) state that must survive a crash.

It holds the suppression list (unsubscribes, bounces, complaints, manual) that every
send honours, and one send run per issue with a row per member. A member's row says
``sending`` (intent, with our Message-ID) before the backend is handed the message and
``sent``/``queued``/``failed``/``deferred`` once the provider answered, so a crash leaves
only the in-flight rows uncertain. Writes commit before returning, so an unsubscribe is
durable before the web app answers, and several processes can share the file.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    email      TEXT PRIMARY KEY,   -- lower-cased address
    reason     TEXT NOT NULL,      -- unsubscribe | bounce | complaint | manual | import
    source     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sends (
    id           INTEGER PRIMARY KEY,
    issue        TEXT NOT NULL UNIQUE, -- issue slug: one send run per issue, resumed in place
    backend      TEXT NOT NULL,
    runs         INTEGER NOT NULL DEFAULT 1,
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    completed_at TEXT                  -- set when a run ended with every member final
);
CREATE TABLE IF NOT EXISTS deliveries (
    send_id     INTEGER NOT NULL REFERENCES sends(id),
    email       TEXT NOT NULL,              -- lower-cased address
    state       TEXT NOT NULL,              -- sending | sent | queued | deferred | failed
    message_id  TEXT NOT NULL DEFAULT '',   -- our Message-ID, reused when sent again
    provider_id TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (send_id, email)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (send_id, state);
"""

# Soft bounces count per address until one in a row too many suppresses it; a later
# success for the address (delivery, open, click) starts the count again.
BOUNCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS soft_bounces (
    email      TEXT PRIMARY KEY,   -- lower-cased address
    in_a_row   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"""
SENDING = "sending"
DEFERRED = "deferred"
FAILED = "failed"
DELIVERED_STATES = ("sent", "queued")
FINAL_STATES = (*DELIVERED_STATES, FAILED)  # never sent again on resume


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str
    source: str
    created_at: str


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


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SendLedger:
    """One connection to the ledger file; use as a context manager."""

    # FULL: a commit survives power loss too, so an intent row is on disk before the
    # batch goes out and an unsubscribe before its 200 (NORMAL survives only a process crash).
    SYNCHRONOUS = "FULL"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            self.db.executescript(SCHEMA)
            self.db.executescript(BOUNCE_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: cannot open the ledger ({exc})") from None

    def __enter__(self) -> "SendLedger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def suppress(self, email: str, reason: str, source: str = "") -> bool:
        """Add an address to the suppression list; False if it was already there."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO suppressions (email, reason, source, created_at) VALUES (?, ?, ?, ?)",
            (email.strip().lower(), reason, source, utc_now()),
        )
        return cursor.rowcount == 1

    def is_suppressed(self, email: str) -> bool:
        row = self.db.execute("SELECT 1 FROM suppressions WHERE email = ?", (email.strip().lower(),)).fetchone()
        return row is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group many writes (an import, a batch of intents) into one commit: all or
        nothing, and one fsync rather than one a row."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def count_soft_bounce(self, email: str) -> int:
        """Add one soft bounce to the address's run and return the run's length."""
        row = self.db.execute(
            "INSERT INTO soft_bounces (email, in_a_row, updated_at) VALUES (?, 1, ?) "
            "ON CONFLICT (email) DO UPDATE SET in_a_row = in_a_row + 1, updated_at = excluded.updated_at "
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

    def suppressions(self) -> Iterator[Suppression]:
        for row in self.db.execute("SELECT email, reason, source, created_at FROM suppressions ORDER BY created_at, email"):
            yield Suppression(*row)

    def start_send(self, issue: str, backend: str) -> SendRun:
        """The issue's send run, created on the first run and resumed on later ones."""
        now = utc_now()
        with self.transaction():
            self.db.execute(
                "INSERT INTO sends (issue, backend, started_at, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (issue) DO UPDATE SET runs = runs + 1, backend = excluded.backend, "
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
        self.db.execute("UPDATE sends SET updated_at = ?, completed_at = ? WHERE id = ?", (now, now if complete else None, send_id))

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        """The lower-cased addresses of ``emails`` (a block of a few hundred) that are suppressed."""
        wanted = [email.lower() for email in emails]
        rows = self.db.execute(f"SELECT email FROM suppressions WHERE email IN ({_marks(wanted)})", wanted)
        return {email for (email,) in rows}

    def deliveries_among(self, send_id: int, emails: Sequence[str]) -> dict[str, tuple[str, str]]:
        """lower-cased address -> (state, message_id) for those of ``emails`` tried before."""
        wanted = [email.lower() for email in emails]
        rows = self.db.execute(
            f"SELECT email, state, message_id FROM deliveries WHERE send_id = ? AND email IN ({_marks(wanted)})",
            [send_id, *wanted],
        )
        return {email: (state, message_id) for email, state, message_id in rows}

    def record_intent(self, send_id: int, messages: Iterable[tuple[str, str]]) -> None:
        """Mark (email, message_id) pairs ``sending`` and commit, before the backend sees them."""
        now = utc_now()
        with self.transaction():
            self.db.executemany(
                "INSERT INTO deliveries (send_id, email, state, message_id, attempts, updated_at) VALUES (?, ?, 'sending', ?, 1, ?) "
                "ON CONFLICT (send_id, email) DO UPDATE SET state = 'sending', message_id = excluded.message_id, "
                "attempts = attempts + 1, updated_at = excluded.updated_at",
                [(send_id, email.lower(), message_id, now) for email, message_id in messages],
            )

    def record_outcomes(self, send_id: int, outcomes: Iterable[Outcome]) -> None:
        """Record the provider's answers for a batch in one commit."""
        now = utc_now()
        with self.transaction():
            self.db.executemany(
                "UPDATE deliveries SET state = ?, provider_id = ?, error = ?, updated_at = ? WHERE send_id = ? AND email = ?",
                [(o.state, o.provider_id, o.error, now, send_id, o.email.lower()) for o in outcomes],
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
            "WHERE send_id = ? AND state NOT IN ('sent', 'queued') ORDER BY state, email LIMIT ?",
            (send_id, limit),
        )
        return [Delivery(*row) for row in rows]
