"""One worker of a shared send: claim a batch of the audience snapshot under a lease,
send what the ledger does not show as answered, mark the batch done, claim the next.

Several workers (``digest send --workers N`` here, ``digest send --join`` on other
machines) run this loop against one ledger. A heartbeat thread renews the worker's
leases every third of ``lease_seconds``; a worker that dies stops renewing, and once
its lease lapses another worker claims the batch, asks the backend about the members
left in flight (the outbox can tell) and sends the rest again under the same
Message-IDs. Messages go out in chunks booked against the send's one shared rate; each
chunk is recorded ``sending`` before the backend sees it (fenced by the batch's lease),
and each answer as it arrives (per message for SMTP and the outbox), so a crash
duplicates at most the message on the wire per worker.
"""
from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import DeliveryError, DigestError
from ..members.file import chunks
from ..render.mime import MessageFactories
from ..store.ledger import (FINAL_STATES, SENDING, Claim, Intent, Outcome,
                            SendLedger, SendRun)
from ..store.space import ensure_room
from .backends.base import Backend, Status
from .batches import SendOptions, deliver_batch
from .send import Progress, _Recorder, build_messages

# With a rate, a chunk is at most this share of a second's messages, so no 1-second
# window sees more than the rate plus one chunk (5% over at 20 messages a second).
CHUNKS_A_SECOND = 20


@dataclass(frozen=True)
class WorkerReport:
    worker: str
    progress: Progress
    batches: int        # batches this worker finished
    taken_over: int     # of which another worker had held before
    interrupted: bool
    complete: bool      # the whole send, as this worker left it


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def prepare_shared_send(ledger: SendLedger, run: SendRun, options: SendOptions, batch_size: int) -> None:
    """Make the send (its audience already snapshotted) a shared one: its audience cut
    into batches on the first run, batches done but not finished reopened on later ones,
    and the shared rate set from this run's ``[sending] rate``."""
    if ledger.has_batches(run.id):
        ledger.reopen_batches(run.id)
    else:
        ledger.ensure_batches(run.id, batch_size)
    ledger.set_rate(run.id, options.rate)


def work_on_send(factory: MessageFactories, ledger: SendLedger, make_backend: Callable[[], Backend],
                 options: SendOptions, send_id: int, *, stop: threading.Event | None = None,
                 on_progress: Callable[[Progress], None] | None = None, worker: str | None = None) -> WorkerReport:
    """Work on the send until no batch is left to claim or hold; raises DeliveryError
    (after recording, with its batch released) if the backend fails for good."""
    stop = stop or threading.Event()
    abort = threading.Event()
    worker = worker or new_worker_id()
    host, _, pid = worker.partition(":")
    ledger.join_send(send_id, worker, host, int(pid.partition(":")[0] or 0))
    backend = make_backend()
    progress = Progress()
    recorder = _Recorder(ledger, send_id, progress, on_progress)
    heartbeat = Heartbeat(ledger, send_id, worker, options.lease_seconds, stop, progress)
    heartbeat.start()
    batches = taken_over = 0
    fatal: DeliveryError | None = None
    state = "failed"
    try:
        backend.open()
        with ledger.relaxed_sync():
            while not stop.is_set() and fatal is None:
                claim = ledger.claim_batch(send_id, worker, options.lease_seconds)
                if claim is None:
                    held = ledger.batches_by_state(send_id)
                    if not held.get("claimed") and not held.get("pending"):
                        break
                    stop.wait(min(0.25, options.lease_seconds / 4))  # a holder may die: wait to take over
                    continue
                try:
                    done, fatal = _work_batch(factory, ledger, backend, options, send_id, worker, claim, recorder, stop,
                                              abort)
                except BaseException:
                    abort.set()
                    raise
                ledger.end_batch(send_id, claim.batch, worker, done)
                if done:
                    batches += 1
                    taken_over += claim.claims > 1
        state = "stopped" if stop.is_set() else "failed" if fatal else "done"
    except DeliveryError as exc:
        fatal = exc
    finally:
        heartbeat.halt()
        backend.close()
        ledger.leave_send(send_id, worker, state, progress.sent)
    complete = ledger.complete_if_done(send_id)
    if fatal is not None:
        raise fatal
    return WorkerReport(worker, progress, batches, taken_over, stop.is_set(), complete)


def _work_batch(factory: MessageFactories, ledger: SendLedger, backend: Backend, options: SendOptions, send_id: int,
                worker: str, claim: Claim, recorder: _Recorder, stop: threading.Event,
                abort: threading.Event) -> tuple[bool, DeliveryError | None]:
    """Send a claimed batch; (True, None) when every member in it was answered."""
    rows = ledger.audience_block(send_id, claim.first - 1, claim.last - claim.first + 1)
    confirmed = _confirm_in_flight(ledger, backend, factory, send_id, rows, recorder.progress)
    todo = [row for row in rows if row.state not in FINAL_STATES and row.email.lower() not in confirmed]
    messages, unsent = build_messages(factory, ledger, todo)
    if unsent:
        recorder.unsent(unsent)
    rate = ledger.rate(send_id)
    size = max(1, int(rate / CHUNKS_A_SECOND)) if rate else max(1, len(messages))

    def fence() -> None:
        ledger.hold_batch(send_id, claim.batch, worker, options.lease_seconds)

    for chunk in chunks(messages, size):
        delay = ledger.pace(send_id, len(chunk)) if rate else 0.0
        if stop.is_set() or (delay and stop.wait(delay)):
            return False, None
        if ledger.path is not None:
            ensure_room(ledger.path, len(chunk))
        ledger.record_intent(send_id, [Intent(m.recipient, m.message_id, language) for m, language in chunk], fence)
        error = deliver_batch(backend, [m for m, _ in chunk], options, stop, recorder, abort=abort)
        if error is not None:
            return False, error
    return True, None


def _confirm_in_flight(ledger: SendLedger, backend: Backend, factory: MessageFactories, send_id: int, rows: list,
                       progress: Progress) -> set[str]:
    """Members a stopped worker or run left ``sending`` that the backend proves it has
    are recorded sent; returns their lower-cased addresses."""
    slug = factory.rendered.issue.slug
    confirmed = [Outcome(row.email, Status.SENT.value, row.message_id, "confirmed after a worker stopped")
                 for row in rows if row.state == SENDING and row.message_id
                 and backend.was_delivered(slug, row.email.lower(), row.message_id)]
    if confirmed:
        ledger.record_outcomes(send_id, confirmed)
        progress.confirmed += len(confirmed)
    return {o.email.lower() for o in confirmed}


class Heartbeat(threading.Thread):
    """Renews the worker's leases on its own connection, with how many messages it has had
    accepted so far (for status); if it cannot for a whole lease (the ledger unreachable),
    the worker stops: its batches may already be someone else's."""

    def __init__(self, ledger: SendLedger, send_id: int, worker: str, lease_seconds: float, stop: threading.Event,
                 progress: Progress):
        super().__init__(name="digest-heartbeat", daemon=True)
        self.target, self.send_id, self.worker = ledger.target, send_id, worker
        self.lease, self.stop_worker, self.progress = lease_seconds, stop, progress
        self.halted = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        ledger: SendLedger | None = None
        while not self.halted.wait(self.lease / 3):
            try:
                ledger = ledger or SendLedger(self.target)
                ledger.heartbeat(self.send_id, self.worker, self.lease, self.progress.sent)
                last = time.monotonic()
            except DigestError:  # the connection may be gone: open a new one next time
                if ledger is not None:
                    ledger.close()
                    ledger = None
                if time.monotonic() - last > self.lease:
                    self.stop_worker.set()
        if ledger is not None:
            ledger.close()

    def halt(self) -> None:
        self.halted.set()
        self.join(timeout=self.lease)
