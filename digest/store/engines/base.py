"""What a ledger engine offers the ledger classes: statements in one dialect, transactions
that serialise writers, a clock every worker agrees on, and bulk loading.

SQL is written once with ``?`` placeholders; an engine rewrites what its server needs.
Driver errors a user can act on (a locked or corrupt file, a server gone, a refused
login) become one-line ``LedgerError``s; anything else is a bug and keeps its traceback.
A connection may be shared by the send loop's threads: statements and transactions are
serialised by one re-entrant lock.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, ClassVar, Iterable, Iterator, Sequence

from ...errors import LedgerError


class Engine:
    """One connection to a ledger; subclasses bind a driver."""

    dialect: ClassVar[str] = ""
    # Seconds since the epoch, as the database sees it: every worker's leases and rate
    # slots are judged by one clock, whichever machine the worker runs on.
    NOW: ClassVar[str] = ""
    # Appended to the SELECT that picks a batch to claim, and to one that locks a row.
    SKIP_LOCKED: ClassVar[str] = ""
    FOR_UPDATE: ClassVar[str] = ""
    # The larger of two values: MAX(a, b) in SQLite, GREATEST(a, b) in PostgreSQL.
    GREATEST: ClassVar[str] = "MAX"
    # Exceptions of the driver that mean "the ledger is unusable", not "our SQL is wrong".
    unusable: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self, where: str):
        self.where = where  # printable, without a password
        self.connection: Any = None
        self.lock = threading.RLock()
        self.relaxed = False  # see relax()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, statement: str) -> str:
        """``statement`` in this engine's dialect (placeholders, the clock)."""
        return statement.replace("{now}", self.NOW).replace("{greatest}", self.GREATEST)

    def error(self, exc: BaseException) -> LedgerError:
        return LedgerError(f"{self.where}: {first_line(exc)}")

    @contextmanager
    def guard(self) -> Iterator[None]:
        with self.lock:
            try:
                yield
            except self.unusable as exc:
                raise self.error(exc) from None

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor's rows are fetched at once, under the lock."""
        with self.guard():
            return Rows(self.connection.execute(self.sql(statement), params))

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def script(self, text: str) -> None:
        """Run the statements of a migration one at a time, inside the caller's transaction."""
        for statement in statements(text):
            self.execute(statement)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """All or nothing, one commit; a writer waits for the one before it. Not
        ``durable``: the commit does not wait for the disk (it survives a killed process,
        not a power cut, until the next durable commit)."""
        raise NotImplementedError
        yield

    def relax(self, relaxed: bool) -> None:
        """Relaxed: commits do not wait for the disk unless their transaction asks to be
        durable (for the length of a send, whose answers are recorded one by one)."""
        raise NotImplementedError

    def lock_schema(self) -> None:
        """Inside a transaction: keep other processes from migrating at the same time."""

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Load many rows into ``table`` fast, inside the caller's transaction; returns the count."""
        raise NotImplementedError

    def table_exists(self, name: str) -> bool:
        raise NotImplementedError

    def column_exists(self, table: str, column: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        if self.connection is not None:
            with self.lock:
                self.connection.close()


class Rows:
    """A cursor's result, read while the connection's lock is held (another thread may
    use the connection next); ``rowcount`` as the driver reported it."""

    def __init__(self, cursor: Any):
        self.rowcount = cursor.rowcount
        self.rows = cursor.fetchall() if cursor.description is not None else []

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Any]:
        return self.rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def statements(text: str) -> list[str]:
    """The statements of a migration file: ``--`` comments dropped, split at ``;``
    (migrations keep semicolons out of strings for this)."""
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
