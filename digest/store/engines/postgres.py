"""The shared engine: a PostgreSQL database, so a team, CI runners and several
workers see one ledger.

Statements run in autocommit mode unless grouped by ``transaction()``; a batch is
claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` so workers never wait on each
other's claims; migrations hold an advisory lock so two first runs do not race.
``?`` placeholders become ``%s`` here (and a literal ``%`` becomes ``%%``).
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Iterable, Iterator, Sequence

from ...errors import ConfigError, LedgerError
from .base import Engine, first_line

try:
    import psycopg
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]


@lru_cache(maxsize=512)
def _translate(statement: str, now: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s").replace("{now}", now).replace("{greatest}", "GREATEST")


class PostgresEngine(Engine):
    dialect = "postgresql"
    NOW = "extract(epoch from clock_timestamp())::float8"
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    FOR_UPDATE = " FOR UPDATE"
    GREATEST = "GREATEST"

    def __init__(self, url: str):
        from . import describe

        super().__init__(describe(url))
        if psycopg is None:
            raise ConfigError("a postgresql:// ledger needs psycopg: pip install 'digest[postgres]'")
        self.url = url
        # As on SQLite, a refused write (a constraint) is the ledger's answer, not a bug of ours.
        self.unusable = (psycopg.OperationalError, psycopg.InterfaceError, psycopg.IntegrityError)
        try:
            self.connection = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.ProgrammingError as exc:  # a malformed URL or option
            raise ConfigError(f"ledger: {self.where}: {first_line(exc)}") from None
        except psycopg.Error as exc:
            raise LedgerError(f"{self.where}: cannot open the ledger ({first_line(exc)})") from None

    def sql(self, statement: str) -> str:
        return _translate(statement, self.NOW)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.guard(), self.connection.cursor() as cursor:
            cursor.executemany(self.sql(statement), list(rows))

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        with self.guard(), self.connection.transaction():
            if durable == self.relaxed:  # the session's setting is not the one this commit needs
                self.connection.execute(f"SET LOCAL synchronous_commit TO {'on' if durable else 'off'}")
            yield

    def relax(self, relaxed: bool) -> None:
        with self.guard():
            self.connection.execute(f"SET synchronous_commit TO {'off' if relaxed else 'on'}")
            self.relaxed = relaxed

    def lock_schema(self) -> None:
        self.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with self.guard(), self.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def table_exists(self, name: str) -> bool:
        # pg_tables, not to_regclass: a catalog query sees tables another process committed
        # while this one waited for the schema lock (to_regclass may answer from a stale cache).
        row = self.execute("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?",
                           (name,)).fetchone()
        return row is not None

    def column_exists(self, table: str, column: str) -> bool:
        row = self.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                           "AND table_name = ? AND column_name = ?", (table, column)).fetchone()
        return row is not None

    def reopen(self) -> "PostgresEngine":
        return PostgresEngine(self.url)
