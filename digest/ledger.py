"""The ledger: SQLite (WAL) state that must survive a crash.

It holds the suppression list (unsubscribes, bounces, complaints, manual) that every
send honours. Writes commit before returning, so an unsubscribe is durable before the
web app answers, and several processes (a send, the unsubscribe app) can share the file.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    email      TEXT PRIMARY KEY,   -- lower-cased address
    reason     TEXT NOT NULL,      -- unsubscribe | bounce | complaint | manual | import
    source     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
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


@dataclass(frozen=True)
class Suppression:
    email: str
    reason: str
    source: str
    created_at: str


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class SendLedger:
    """One connection to the ledger file; use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
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

    def sync_every_commit(self) -> None:
        """fsync on every commit (WAL's NORMAL only survives a crash of the process, not
        of the machine): for writes a response promises, such as an unsubscribe."""
        self.db.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group many writes (an import) into one commit: all or nothing, and fast."""
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
