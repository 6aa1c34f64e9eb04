"""Leases: one send at a time per issue.

A run holds its issue's lease while it sends: a row naming the holder (a random token),
its pid, host and user, when it took the lease and its last heartbeat. A second run
finds the row and refuses, saying who holds it and since when. A lease whose holder is
gone (its pid no longer runs on this host) or whose heartbeat is older than
``STALE_AFTER`` is taken over, and the caller says so.

Taking and taking over are compare-and-set statements (``INSERT ... ON CONFLICT DO
NOTHING``, ``UPDATE ... WHERE holder = old``), so two runs racing for a lease cannot both
win, on SQLite or on any engine with the same SQL. ``fence`` is run inside the
transaction that records a batch's intent: a run that lost its lease (it was stopped
for longer than ``STALE_AFTER`` and another took over) writes nothing and stops.
"""
from __future__ import annotations

import getpass
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ..errors import SendRefused
from .database import LedgerDatabase, utc_now


HEARTBEAT_EVERY = 5.0                 # seconds between heartbeats of a running send
STALE_AFTER = timedelta(seconds=60)   # a heartbeat this old means the holder is gone


@dataclass(frozen=True)
class Lease:
    issue: str
    holder: str
    pid: int
    host: str
    user_name: str
    acquired_at: str
    heartbeat_at: str

    def describe(self) -> str:
        who = f"{self.user_name}@{self.host}" if self.user_name else self.host
        return f"{who} (pid {self.pid}) since {self.acquired_at}, last heartbeat {self.heartbeat_at}"


class LeaseLost(SendRefused):
    """Another run took over this run's lease: it must stop sending at once."""


def _age(stamp: str, now: datetime) -> timedelta:
    try:
        return now - datetime.fromisoformat(stamp)
    except ValueError:
        return timedelta.max


def holder_gone(lease: Lease, now: datetime | None = None) -> str | None:
    """Why the lease's holder is taken to be gone, or None if it may still be running."""
    now = now or datetime.now(timezone.utc)
    if lease.host == socket.gethostname() and lease.pid != os.getpid():
        try:
            os.kill(lease.pid, 0)
        except ProcessLookupError:
            return f"process {lease.pid} is no longer running"
        except PermissionError:
            pass
    if _age(lease.heartbeat_at, now) > STALE_AFTER:
        return f"no heartbeat for more than {int(STALE_AFTER.total_seconds())} s"
    return None


class SendLeases(LedgerDatabase):
    """Send leases, on the ledger's connection."""

    def lease(self, issue: str) -> Lease | None:
        row = self.db.execute(
            "SELECT issue, holder, pid, host, user_name, acquired_at, heartbeat_at FROM send_leases WHERE issue = ?", (issue,)
        ).fetchone()
        return Lease(*row) if row else None

    def acquire_lease(self, issue: str) -> tuple[Lease, Lease | None, str]:
        """Take the issue's lease: (ours, the stale lease taken over or None, why it was
        stale). SendRefused names the holder when a live run has it."""
        now = utc_now()
        mine = Lease(issue, secrets.token_hex(16), os.getpid(), socket.gethostname(), _user(), now, now)
        with self.transaction():
            self.db.execute(
                "INSERT INTO send_leases (issue, holder, pid, host, user_name, acquired_at, heartbeat_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issue) DO NOTHING",
                (mine.issue, mine.holder, mine.pid, mine.host, mine.user_name, now, now),
            )
            current = self.lease(issue)
            assert current is not None
            if current.holder == mine.holder:
                return mine, None, ""
            why = holder_gone(current)
            if why is None:
                raise SendRefused(f"issue {issue} is being sent by {current.describe()}: wait for that run to "
                                  f"finish or stop it (Ctrl-C); this run sent nothing")
            taken = self.db.execute(
                "UPDATE send_leases SET holder = ?, pid = ?, host = ?, user_name = ?, acquired_at = ?, heartbeat_at = ? "
                "WHERE issue = ? AND holder = ?",
                (mine.holder, mine.pid, mine.host, mine.user_name, now, now, issue, current.holder),
            )
            if taken.rowcount != 1:
                raise SendRefused(f"issue {issue}: another run took over the send at the same moment; this run sent nothing")
        return mine, current, why

    def renew_lease(self, lease: Lease) -> None:
        """Heartbeat (no transaction of its own, so it can fence another's); LeaseLost if taken over."""
        renewed = self.db.execute("UPDATE send_leases SET heartbeat_at = ? WHERE issue = ? AND holder = ?",
                                  (utc_now(), lease.issue, lease.holder))
        if renewed.rowcount != 1:
            raise LeaseLost(f"issue {lease.issue}: another run took over this send (this run was stopped for "
                            f"more than {int(STALE_AFTER.total_seconds())} s); this run stopped sending")

    def release_lease(self, lease: Lease) -> None:
        with self.transaction():
            self.db.execute("DELETE FROM send_leases WHERE issue = ? AND holder = ?", (lease.issue, lease.holder))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
