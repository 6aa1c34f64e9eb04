"""The embedded engine: one SQLite file in WAL mode, the default for one editor on one machine.

``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so two processes
claiming work cannot both read a batch as free; ``synchronous=FULL`` makes a commit
survive power loss, so an intent row is on disk before the batch goes out. Every SQLite
error is a one-line ``LedgerError`` that says what to do (a damaged file, a lock held
too long, a full disk).
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ...errors import LedgerError
from .base import Engine


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


class SqliteEngine(Engine):
    dialect = "sqlite"
    NOW = "((julianday('now') - 2440587.5) * 86400.0)"
    unusable = (sqlite3.Error,)

    def __init__(self, path: Path, synchronous: str = "FULL"):
        super().__init__(str(path))
        self.path = path
        self.synchronous = synchronous
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger's folder ({exc.strerror})", path.parent) from None
        try:
            self.connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise ledger_error(exc, path) from None
        try:
            self._enter_wal()
            self.execute(f"PRAGMA synchronous={synchronous}")
        except LedgerError:
            self.connection.close()
            raise

    def _enter_wal(self, patience: float = 30.0) -> None:
        """WAL mode, which the file then keeps. Switching a file into it takes an exclusive
        lock, and two processes opening a new ledger at once (two sends started together)
        can be refused at once, without the busy timeout's wait: retry for as long as
        that timeout would have waited."""
        deadline = time.monotonic() + patience
        while True:
            try:
                self.connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.Error as exc:
                if not isinstance(exc, sqlite3.OperationalError) or "locked" not in str(exc) or time.monotonic() > deadline:
                    raise ledger_error(exc, self.path) from None
                time.sleep(0.05)

    def error(self, exc: BaseException) -> LedgerError:
        assert isinstance(exc, sqlite3.Error)
        if isinstance(exc, (sqlite3.ProgrammingError, sqlite3.InterfaceError)):
            raise exc  # our SQL is wrong: a bug, with its traceback
        return ledger_error(exc, self.path)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.guard():
            self.connection.executemany(self.sql(statement), rows)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        with self.lock:
            switch = durable == self.relaxed  # the connection's setting is not the one this commit needs
            if switch:
                self.execute(f"PRAGMA synchronous={self.synchronous if durable else 'NORMAL'}")
            try:
                self.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    self.execute("COMMIT")
                except BaseException:
                    try:
                        self.execute("ROLLBACK")
                    except LedgerError:
                        pass  # none active (a failed COMMIT may have ended it); the first error is the one to report
                    raise
            finally:
                if switch:
                    self.execute(f"PRAGMA synchronous={'NORMAL' if self.relaxed else self.synchronous}")

    def relax(self, relaxed: bool) -> None:
        with self.lock:
            self.execute(f"PRAGMA synchronous={'NORMAL' if relaxed else self.synchronous}")
            self.relaxed = relaxed

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        with self.guard():
            cursor = self.connection.cursor()
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
            return cursor.rowcount

    def table_exists(self, name: str) -> bool:
        row = self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    def column_exists(self, table: str, column: str) -> bool:
        return any(row[1] == column for row in self.execute(f"PRAGMA table_info({table})"))

    def reopen(self) -> "SqliteEngine":
        return SqliteEngine(self.path, self.synchronous)
