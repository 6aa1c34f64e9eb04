"""The ledger's connection: which engine holds it (an SQLite file or PostgreSQL), its
schema brought up to date on opening, and its transactions.

Send runs, audiences, leases, shared sends and suppressions (``sends.py``,
``audiences.py``, ``leases.py``, ``shared.py``, ``suppressions.py``) are written on top
of this in one SQL dialect, so where the state lives and how a commit reaches the disk
is decided here and in ``engines/`` once. Every error a user can act on is a one-line
``LedgerError``; the connection may be shared by the send loop's threads.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

from .engines import describe, is_local_file, open_engine
from .migrations import migrate


def marks(values: Sequence[object]) -> str:
    """``?,?,?`` for an ``IN (...)`` clause over ``values``."""
    return ",".join("?" * len(values))


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LedgerDatabase:
    """One connection to the ledger (a file path, ``sqlite:///...`` or
    ``postgresql://...``); use as a context manager. Opening it migrates it."""

    # FULL: a commit survives power loss too, so an intent row is on disk before the
    # batch goes out and an unsubscribe before its 200 (NORMAL survives only a process crash).
    SYNCHRONOUS = "FULL"

    def __init__(self, target: str | Path):
        self.target = target
        self.depth = 0  # of nested transaction() blocks
        self.db = open_engine(target, self.SYNCHRONOUS)
        # The file, for the checks only a file needs (room left on its disk); None for a server.
        self.path: Path | None = getattr(self.db, "path", None) if is_local_file(target) else None
        try:
            migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __str__(self) -> str:
        return describe(self.target)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def relaxed_sync(self) -> Iterator[None]:
        """For the length of a send: commits skip waiting for the disk unless they ask to
        be durable (``transaction(durable=True)``), which then carries every earlier
        commit to disk too. A relaxed commit survives the process being killed, not a power cut."""
        self.db.relax(True)
        try:
            yield
        finally:
            self.db.relax(False)

    @property
    def _relaxed(self) -> bool:
        return self.db.relaxed

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[None]:
        """Group many writes (an import, a batch of intents) into one commit: all or
        nothing, and one fsync rather than one a row. A transaction inside another
        joins it, so writes made of smaller ones can still be committed together.
        ``durable=False`` commits without waiting for the disk: the commit survives the
        process being killed, not a power cut (until the next durable commit)."""
        with self.db.lock:
            if self.depth:
                self.depth += 1
                try:
                    yield
                finally:
                    self.depth -= 1
                return
            self.depth = 1
            try:
                with self.db.transaction(durable):
                    yield
            finally:
                self.depth = 0
