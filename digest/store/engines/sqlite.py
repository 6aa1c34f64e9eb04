"""The embedded engine: one SQLite file in WAL mode, the default for one editor on one machine.

``BEGIN IMMEDIATE`` takes the write lock when a transaction starts, so two processes
claiming work cannot both read a batch as free; ``synchronous=FULL`` makes a commit
survive power loss, so an intent row is on disk before the batch goes out.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ...errors import LedgerError
from .base import Engine


class SqliteEngine(Engine):
    dialect = "sqlite"
    NOW = "((julianday('now') - 2440587.5) * 86400.0)"
    unusable = (sqlite3.OperationalError, sqlite3.DatabaseError)
    bugs = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)

    def __init__(self, path: Path, synchronous: str = "FULL"):
        super().__init__(str(path))
        self.path = path
        self.synchronous = synchronous
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute(f"PRAGMA synchronous={synchronous}")
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"{path}: cannot open the ledger ({exc})") from None

    @contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except self.bugs:
            raise
        except self.unusable as exc:
            raise LedgerError(f"{self.where}: {exc}") from None

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.guard():
            self.connection.executemany(self.sql(statement), rows)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        if not durable:  # in WAL mode NORMAL commits to the log without an fsync
            self.execute("PRAGMA synchronous=NORMAL")
        try:
            self.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise
            self.execute("COMMIT")
        finally:
            if not durable:
                self.execute(f"PRAGMA synchronous={self.synchronous}")

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        cursor = self.connection.cursor()
        with self.guard():
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
        return cursor.rowcount

    def table_exists(self, name: str) -> bool:
        row = self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return row is not None

    def reopen(self) -> "SqliteEngine":
        return SqliteEngine(self.path, self.synchronous)
