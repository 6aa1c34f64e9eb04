"""Sends shared by workers: the audience snapshot (``audiences.py``) cut into batches
claimed under leases, the workers' heartbeats and one rate for all of them.

A batch is claimed in one short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), so two workers never hold the same batch while its
lease runs. A worker that dies stops renewing its lease; once it lapses any worker
claims the batch again and, since deliveries are per member, sends only the members
the ledger does not show as answered. Times are the database's clock (``{now}``).
"""
from __future__ import annotations

from dataclasses import dataclass

from .database import LedgerDatabase, utc_now
from .leases import LeaseLost
from .sends import FINAL_STATES
_FINAL = ", ".join(f"'{state}'" for state in FINAL_STATES)
_UNFINISHED_IN_BATCH = (
    "EXISTS (SELECT 1 FROM audience_members a LEFT JOIN deliveries d ON d.send_id = a.send_id "
    "AND d.email = LOWER(a.email) WHERE a.send_id = batches.send_id "
    "AND a.position BETWEEN batches.first_position AND batches.last_position "
    f"AND (d.state IS NULL OR d.state NOT IN ({_FINAL})))"
)


@dataclass(frozen=True)
class Claim:
    batch: int
    first: int           # audience positions first..last
    last: int
    claims: int          # over 1: the batch was held before (by a worker that stopped or died)
    previous: str        # the worker that held it last, if any


@dataclass(frozen=True)
class WorkerStatus:
    worker: str
    host: str
    pid: int
    state: str
    heartbeat_age: float     # seconds since its last heartbeat
    sent: int
    batches: tuple[tuple[int, float], ...]  # (batch, seconds its lease has left) it holds


class SharedSends(LedgerDatabase):
    """The batches, workers and pacing of shared sends."""

    def has_batches(self, send_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM batches WHERE send_id = ? LIMIT 1", (send_id,)).fetchone() is not None

    def ensure_batches(self, send_id: int, batch_size: int) -> int:
        """Cut the send's audience snapshot into batches, unless another process did
        first; returns how many batches the send has."""
        with self.transaction():
            members = self.db.execute(f"SELECT members FROM audiences WHERE send_id = ?{self.db.FOR_UPDATE}",
                                      (send_id,)).fetchone()
            if not self.has_batches(send_id):
                size = int(members[0]) if members else 0
                self.db.executemany("INSERT INTO batches (send_id, batch, first_position, last_position) VALUES (?, ?, ?, ?)",
                                    [(send_id, number, first, min(first + batch_size - 1, size))
                                     for number, first in enumerate(range(1, size + 1, batch_size))])
            return int(self.db.execute("SELECT COUNT(*) FROM batches WHERE send_id = ?", (send_id,)).fetchone()[0])

    def reopen_batches(self, send_id: int) -> int:
        """Batches marked done that still hold deferred or unanswered members go back to
        pending, so a later run retries them; returns how many."""
        cursor = self.db.execute(f"UPDATE batches SET state = 'pending', worker = '' WHERE send_id = ? AND state = 'done' "
                                 f"AND {_UNFINISHED_IN_BATCH}", (send_id,))
        return cursor.rowcount

    def claim_batch(self, send_id: int, worker: str, lease_seconds: float) -> Claim | None:
        """The first batch nobody holds (pending, or its holder's lease lapsed), now held by ``worker``."""
        with self.transaction():
            row = self.db.execute(
                "SELECT batch, worker FROM batches WHERE send_id = ? AND (state = 'pending' "
                f"OR (state = 'claimed' AND lease_until < {{now}})) ORDER BY batch LIMIT 1{self.db.SKIP_LOCKED}",
                (send_id,)).fetchone()
            if row is None:
                return None
            claimed = self.db.execute(
                "UPDATE batches SET state = 'claimed', worker = ?, claims = claims + 1, claimed_at = {now}, "
                "lease_until = {now} + ? WHERE send_id = ? AND batch = ? RETURNING batch, first_position, last_position, claims",
                (worker, lease_seconds, send_id, row[0])).fetchone()
        return Claim(*claimed, previous=row[1])

    def hold_batch(self, send_id: int, batch: int, worker: str, lease_seconds: float) -> None:
        """The fence of a worker's intents: renew its lease on the batch, or raise
        LeaseLost if the batch is no longer its (its lease lapsed and another took it)."""
        held = self.db.execute("UPDATE batches SET lease_until = {now} + ? WHERE send_id = ? AND batch = ? AND worker = ? "
                               "AND state = 'claimed'", (lease_seconds, send_id, batch, worker))
        if held.rowcount != 1:
            raise LeaseLost(f"batch {batch} was taken over by another worker (this one was stopped for longer than "
                            f"its {lease_seconds:g} s lease); this worker stopped sending")

    def end_batch(self, send_id: int, batch: int, worker: str, done: bool) -> None:
        """``done``: every member of it was handed over and answered; else back to pending."""
        if done:
            self.db.execute("UPDATE batches SET state = 'done' WHERE send_id = ? AND batch = ? AND worker = ?",
                            (send_id, batch, worker))
        else:
            self.db.execute("UPDATE batches SET state = 'pending', worker = '' WHERE send_id = ? AND batch = ? "
                            "AND worker = ? AND state = 'claimed'", (send_id, batch, worker))

    def batches_by_state(self, send_id: int) -> dict[str, int]:
        rows = self.db.execute("SELECT state, COUNT(*) FROM batches WHERE send_id = ? GROUP BY state", (send_id,))
        return {state: int(count) for state, count in rows}

    def join_send(self, send_id: int, worker: str, host: str, pid: int) -> None:
        self.db.execute(
            "INSERT INTO workers (send_id, worker, host, pid, state, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, ?, 'working', {now}, {now}) ON CONFLICT (send_id, worker) DO UPDATE SET state = 'working', "
            "heartbeat_at = excluded.heartbeat_at", (send_id, worker, host, pid))

    def heartbeat(self, send_id: int, worker: str, lease_seconds: float, sent: int) -> None:
        """Renew the worker's leases and say it is alive (and how many messages it had
        accepted so far), in one commit."""
        with self.transaction():
            self.db.execute("UPDATE batches SET lease_until = {now} + ? WHERE send_id = ? AND worker = ? "
                            "AND state = 'claimed'", (lease_seconds, send_id, worker))
            self.db.execute("UPDATE workers SET heartbeat_at = {now}, sent = ? WHERE send_id = ? AND worker = ?",
                            (sent, send_id, worker))

    def leave_send(self, send_id: int, worker: str, state: str, sent: int) -> None:
        self.db.execute("UPDATE workers SET state = ?, heartbeat_at = {now}, sent = ? WHERE send_id = ? AND worker = ?",
                        (state, sent, send_id, worker))

    def workers(self, send_id: int) -> list[WorkerStatus]:
        held: dict[str, list[tuple[int, float]]] = {}
        for worker, batch, left in self.db.execute(
                "SELECT worker, batch, lease_until - {now} FROM batches WHERE send_id = ? AND state = 'claimed' "
                "ORDER BY batch", (send_id,)):
            held.setdefault(worker, []).append((int(batch), float(left)))
        rows = self.db.execute("SELECT worker, host, pid, state, {now} - heartbeat_at, sent FROM workers "
                               "WHERE send_id = ? ORDER BY started_at, worker", (send_id,))
        return [WorkerStatus(worker, host, int(pid), state, float(age), int(sent), tuple(held.get(worker, ())))
                for worker, host, pid, state, age, sent in rows]

    def set_rate(self, send_id: int, rate: float) -> None:
        """The send's rate for every worker of it (0 = unlimited); the starting run sets it."""
        self.db.execute("INSERT INTO pacing (send_id, rate, next_at) VALUES (?, ?, {now}) "
                        "ON CONFLICT (send_id) DO UPDATE SET rate = excluded.rate", (send_id, rate))

    def rate(self, send_id: int) -> float:
        row = self.db.execute("SELECT rate FROM pacing WHERE send_id = ?", (send_id,)).fetchone()
        return float(row[0]) if row else 0.0

    def pace(self, send_id: int, count: int) -> float:
        """Book the next ``count`` message slots of the send's shared rate; returns how many
        seconds to wait before sending them (a token bucket with no burst, in one row)."""
        row = self.db.execute(
            "UPDATE pacing SET next_at = {greatest}(next_at, {now}) + ? / rate WHERE send_id = ? AND rate > 0 "
            "RETURNING next_at - ? / rate - {now}", (float(count), send_id, float(count))).fetchone()
        return max(0.0, float(row[0])) if row else 0.0

    def complete_if_done(self, send_id: int) -> bool:
        """Mark the send complete when every batch is done and every member answered for
        good, in one statement (so the last worker out decides); returns whether it is."""
        now = utc_now()
        self.db.execute(
            "UPDATE sends SET updated_at = ?, completed_at = CASE WHEN NOT EXISTS (SELECT 1 FROM batches "
            "WHERE batches.send_id = sends.id AND (state <> 'done' OR " + _UNFINISHED_IN_BATCH + ")) THEN ? ELSE NULL END "
            "WHERE id = ?", (now, now, send_id))
        row = self.db.execute("SELECT completed_at FROM sends WHERE id = ?", (send_id,)).fetchone()
        return row is not None and row[0] is not None

