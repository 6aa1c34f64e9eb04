"""What a ledger engine offers the ledger classes: statements in one dialect, transactions
that serialise writers, a clock every worker agrees on, and bulk loading.

SQL is written once with ``?`` placeholders; an engine rewrites what its server needs.
Driver errors a user can act on (a locked or corrupt file, a server gone, a refused
login) become one-line ``LedgerError``s; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

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

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sql(self, statement: str) -> str:
        """``statement`` in this engine's dialect (placeholders, the clock)."""
        return statement.replace("{now}", self.NOW).replace("{greatest}", self.GREATEST)

    @contextmanager
    def guard(self) -> Iterator[None]:
        try:
            yield
        except self.unusable as exc:
            raise LedgerError(f"{self.where}: {first_line(exc)}") from None

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the cursor can be iterated or fetched from."""
        with self.guard():
            return self.connection.execute(self.sql(statement), params)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def script(self, text: str) -> None:
        """Run the statements of a migration one at a time, inside the caller's transaction."""
        for statement in statements(text):
            self.execute(statement)

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """All or nothing, one commit; a writer waits for the one before it. Not
        ``durable``: the commit does not wait for the disk (it survives a killed process)."""
        raise NotImplementedError
        yield

    def lock_schema(self) -> None:
        """Inside a transaction: keep other processes from migrating at the same time."""

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Load many rows into ``table`` fast, inside the caller's transaction; returns the count."""
        raise NotImplementedError

    def table_exists(self, name: str) -> bool:
        raise NotImplementedError

    def reopen(self) -> "Engine":
        """A second connection to the same ledger (for a heartbeat thread)."""
        raise NotImplementedError

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def statements(text: str) -> list[str]:
    """The statements of a migration file: ``--`` comments dropped, split at ``;``
    (migrations keep semicolons out of strings and comments for this)."""
    lines = [line.split("--", 1)[0] for line in text.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
