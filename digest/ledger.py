"""The ledger: SQLite (WAL) state that must survive a crash.

It holds the suppression list (unsubscribes, bounces, complaints, manual) that every
send honours. Writes commit before returning, so an unsubscribe is durable before the
web app answers, and several processes (a send, the unsubscribe app) can share the file.
"""
from __future__ import annotations

import sqlite3
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

    def suppressions(self) -> Iterator[Suppression]:
        for row in self.db.execute("SELECT email, reason, source, created_at FROM suppressions ORDER BY created_at, email"):
            yield Suppression(*row)
