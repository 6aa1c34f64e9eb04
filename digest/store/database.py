"""The ledger file itself: one SQLite (WAL) connection, its pragmas and transactions.

Send runs, audiences, leases and suppressions (``sends.py``, ``audiences.py``,
``leases.py``, ``suppressions.py``) are written on top of this, so where the state lives
and how a commit reaches the disk is decided here once.

Every SQLite error is turned into a one-line ``LedgerError`` that says what to do
(a damaged file, a lock held too long, a full disk); none reaches the user as a
traceback. The connection may be shared by the send loop's threads: statements and
transactions are serialised by one re-entrant lock.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Iterator, Sequence

from ..errors import LedgerError


def marks(values: Sequence[object]) -> str:
    """``?,?,?`` for an ``IN (...)`` clause over ``values``."""
    return ",".join("?" * len(values))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ledger_error(exc: sqlite3.Error, path: Path) -> LedgerError:
    """The one line a user reads for an SQLite error, with what to do about it."""
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if code in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "not a database" in text or "malformed" in text:
        advice = ("the ledger is damaged: restore it from a backup, or move it aside and run "
                  "`digest send` with --new-ledger (members already sent would be sent again)")
    elif code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        advice = "the ledger is locked by another process; try again when it has finished"
    elif code == "SQLITE_FULL" or "full" in text:
        advice = "the disk holding the ledger is full: free some space, then run the command again to resume"
    elif code.startswith("SQLITE_READONLY") or "readonly" in text:
        advice = "the ledger cannot be written (read-only file or folder): fix its permissions"
    elif code.startswith("SQLITE_IOERR") or "I/O" in text:
        advice = "the ledger could not be written (disk full, file size limit or a disk error): fix that and run again"
    elif code.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        advice = "the ledger cannot be opened: check that its folder exists and is writable"
    else:
        advice = "the ledger could not be used"
    return LedgerError(f"{advice} ({text})", path)


class GuardedCursor:
    """A cursor whose errors become LedgerError (rows are fetched lazily, so reads can fail too)."""

    def __init__(self, cursor: sqlite3.Cursor, owner: "GuardedConnection"):
        self.cursor, self.owner = cursor, owner

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount

    def fetchone(self) -> Any:
        with self.owner.guard():
            return self.cursor.fetchone()

    def fetchall(self) -> list[Any]:
        with self.owner.guard():
            return self.cursor.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class GuardedConnection:
    """The few ``sqlite3.Connection`` methods the store uses, serialised and guarded."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self.connection, self.path = connection, path
        self.lock = threading.RLock()

    @contextmanager
    def guard(self) -> Iterator[None]:
        with self.lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise ledger_error(exc, self.path) from None

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> GuardedCursor:
        with self.guard():
            return GuardedCursor(self.connection.execute(sql, parameters), self)

    def executemany(self, sql: str, rows: Any) -> GuardedCursor:
        with self.guard():
            return GuardedCursor(self.connection.executemany(sql, rows), self)

    def executescript(self, script: str) -> None:
        with self.guard():
            self.connection.executescript(script)

    def close(self) -> None:
        with self.guard():
            self.connection.close()


class LedgerDatabase:
    """One connection to the ledger file; use as a context manager.

    Subclasses list the tables they need in ``SCHEMAS``; each is created if missing.
    ``UPGRADES`` are (probe, change) pairs: when the probe fails (an older ledger), the
    change is applied.
    """

    SCHEMAS: ClassVar[tuple[str, ...]] = ()
    UPGRADES: ClassVar[tuple[tuple[str, str], ...]] = ()
    # FULL: a commit survives power loss too, so an intent row is on disk before the
    # batch goes out and an unsubscribe before its 200 (NORMAL survives only a process crash).
    SYNCHRONOUS = "FULL"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger's folder ({exc.strerror})", self.path.parent) from None
        try:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ledger_error(exc, self.path) from None
        self.db = GuardedConnection(connection, self.path)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            for schema in self.SCHEMAS:
                self.db.executescript(schema)
            for probe, change in self.UPGRADES:
                self._upgrade(probe, change)
        except LedgerError:
            connection.close()
            raise

    def _upgrade(self, probe: str, change: str) -> None:
        try:
            self.db.connection.execute(probe)
        except sqlite3.OperationalError:
            self.db.executescript(change)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """For the length of a send: commits skip the fsync unless they ask to be durable
        (``transaction(durable=True)``), which then carries every earlier commit to disk
        too. A relaxed commit survives the process being killed, not a power cut."""
        with self.db.lock:
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._relaxed = True
        try:
            yield
        finally:
            with self.db.lock:
                self._relaxed = False
                self.db.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")

    _relaxed = False

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """Group many writes (an import, a batch of intents) into one commit: all or
        nothing, and one fsync rather than one a row. ``durable=False`` commits without
        the fsync: the commit survives the process being killed (it is in the operating
        system's hands) but not a power cut, until the next durable commit, whose fsync
        of the write-ahead log carries every commit before it to the disk."""
        with self.db.lock:
            switch = durable == self._relaxed  # the connection's setting is not the one this commit needs
            if switch:
                self.db.execute(f"PRAGMA synchronous={self.SYNCHRONOUS if durable else 'NORMAL'}")
            try:
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    self.db.execute("COMMIT")
                except BaseException:
                    try:
                        self.db.execute("ROLLBACK")
                    except LedgerError:
                        pass  # none active (a failed COMMIT may have ended it); the first error is the one to report
                    raise
            finally:
                if switch:
                    self.db.execute(f"PRAGMA synchronous={'NORMAL' if self._relaxed else self.SYNCHRONOUS}")
