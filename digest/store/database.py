"""The ledger file itself: one SQLite (WAL) connection, its pragmas and transactions.

Send runs and suppressions (``sends.py``, ``suppressions.py``) are written on top of
this, so where the state lives and how a commit reaches the disk is decided here once.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar, Iterator, Sequence

from ..errors import ConfigError


def marks(values: Sequence[object]) -> str:
    """``?,?,?`` for an ``IN (...)`` clause over ``values``."""
    return ",".join("?" * len(values))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LedgerDatabase:
    """One connection to the ledger file; use as a context manager.

    Subclasses list the tables they need in ``SCHEMAS``; each is created if missing.
    """

    SCHEMAS: ClassVar[tuple[str, ...]] = ()
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
            for schema in self.SCHEMAS:
                self.db.executescript(schema)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"{self.path}: cannot open the ledger ({exc})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

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
