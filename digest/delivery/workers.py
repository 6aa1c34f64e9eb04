"""One worker of a shared send: claim a batch of the audience under a lease, send what
the ledger does not show as answered, mark the batch done, claim the next.

Several workers (``digest send --workers N`` here, ``digest send --join`` on other
machines) run this loop against one ledger. A heartbeat thread renews the worker's
leases every third of ``lease_seconds``; a worker that dies stops renewing, and once
its lease lapses another worker claims the batch, asks the backend about the members
left in flight (the outbox can tell) and sends the rest again under the same
Message-IDs. Messages go out in chunks booked against the send's one shared rate, and
each chunk is recorded ``sending`` before the backend sees it, so a crash leaves at
most one chunk a worker uncertain.
"""
from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import DeliveryError, DigestError
from ..members.file import chunks
from ..render.mime import MessageFactories, OutgoingMessage
from ..store.ledger import DEFERRED, FAILED, FINAL_STATES, SENDING, Claim, Outcome, SendLedger, SendRun
from .audience import Candidate, select_members
from .backends.base import Backend, Status
from .batches import SendOptions, deliver_batch
from .send import Progress, _count

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


def prepare_shared_send(ledger: SendLedger, issue_slug: str, backend_name: str, members_path: str | Path,
                        options: SendOptions, batch_size: int) -> SendRun:
    """Start (or resume) the issue's send as a shared one: its audience fixed in the
    ledger from the members file on the first run, batches done but not finished
    reopened on later ones, and the shared rate set from this run's ``[sending] rate``."""
    run = ledger.start_send(issue_slug, backend_name)
    if ledger.has_audience(run.id):
        ledger.reopen_batches(run.id)
    else:
        ledger.write_audience(run.id, _audience(members_path, ledger), batch_size)
    ledger.set_rate(run.id, options.rate)
    return run


def _audience(members_path: str | Path, ledger: SendLedger) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    for row in select_members(members_path, ledger):
        if isinstance(row, Candidate):
            yield row.member.email, row.member.name, row.member.language, row.member.fields


def work_on_send(factory: MessageFactories, ledger: SendLedger, make_backend: Callable[[], Backend],
                 options: SendOptions, send_id: int, *, stop: threading.Event | None = None,
                 on_progress: Callable[[Progress], None] | None = None, worker: str | None = None) -> WorkerReport:
    """Work on the send until no batch is left to claim or hold; raises DeliveryError
    (after recording, with its batch released) if the backend fails for good."""
    stop = stop or threading.Event()
    worker = worker or new_worker_id()
    host, _, pid = worker.partition(":")
    ledger.join_send(send_id, worker, host, int(pid.partition(":")[0] or 0))
    heartbeat = Heartbeat(ledger, send_id, worker, options.lease_seconds, stop)
    heartbeat.start()
    backend = make_backend()
    progress = Progress()
    batches = taken_over = 0
    fatal: DeliveryError | None = None
    state = "failed"
    try:
        backend.open()
        while not stop.is_set() and fatal is None:
            claim = ledger.claim_batch(send_id, worker, options.lease_seconds)
            if claim is None:
                held = ledger.batches_by_state(send_id)
                if not held.get("claimed") and not held.get("pending"):
                    break
                stop.wait(min(0.25, options.lease_seconds / 4))  # a holder may die: wait to take over
                continue
            done, fatal = _work_batch(factory, ledger, backend, options, send_id, worker, claim, progress, stop, on_progress)
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
        ledger.leave_send(send_id, worker, state)
    complete = ledger.complete_if_done(send_id)
    if fatal is not None:
        raise fatal
    return WorkerReport(worker, progress, batches, taken_over, stop.is_set(), complete)


def _work_batch(factory: MessageFactories, ledger: SendLedger, backend: Backend, options: SendOptions, send_id: int,
                worker: str, claim: Claim, progress: Progress, stop: threading.Event,
                on_progress: Callable[[Progress], None] | None) -> tuple[bool, DeliveryError | None]:
    """Send a claimed batch; (True, None) when every member in it was answered."""
    members = ledger.audience_between(send_id, claim.first_seq, claim.last_seq)
    known = ledger.deliveries_among(send_id, [m.email for m in members])
    if any(state == SENDING for state, _ in known.values()):  # left in flight by a worker or run that stopped
        known.update(_confirm_in_flight(ledger, backend, factory, send_id, known, progress))
    messages: list[OutgoingMessage] = []
    refused: list[Outcome] = []
    for member in members:
        state, message_id = known.get(member.email.lower(), ("", ""))
        if state in FINAL_STATES:
            continue
        try:
            messages.append(factory.personalise(member.email, member.name, member.fields, language=member.language,
                                                message_id=message_id if state in (SENDING, DEFERRED) and message_id else None))
        except DigestError as exc:  # a member whose data cannot go into a message: refused, never retried
            refused.append(Outcome(member.email, FAILED, "", str(exc)))
    if refused:
        ledger.record_intent(send_id, [(o.email, "") for o in refused])
        ledger.record_outcomes(send_id, refused)
        _count(progress, refused)
    rate = ledger.rate(send_id)
    size = max(1, int(rate / CHUNKS_A_SECOND)) if rate else max(1, len(messages))
    for chunk in chunks(messages, size):
        delay = ledger.pace(send_id, len(chunk)) if rate else 0.0
        if stop.is_set() or (delay and stop.wait(delay)):
            return False, None
        ledger.record_intent(send_id, [(m.recipient, m.message_id) for m in chunk])
        # A backend that acknowledges each message gets one at a time, each answer recorded
        # before the next goes, so a crash duplicates at most the one message on the wire.
        for part in ([m] for m in chunk) if backend.acknowledges_each else [chunk]:
            outcomes, error = deliver_batch(backend, part, options, stop)
            with ledger.transaction(durable=not backend.acknowledges_each):  # answers and count in one commit
                ledger.record_outcomes(send_id, outcomes)
                ledger.count_sent(send_id, worker, sum(1 for o in outcomes if o.state not in (FAILED, DEFERRED)))
            _count(progress, outcomes)
            if on_progress is not None:
                on_progress(progress)
            if error is not None:
                return False, error
    return True, None


def _confirm_in_flight(ledger: SendLedger, backend: Backend, factory: MessageFactories, send_id: int,
                       known: dict[str, tuple[str, str]], progress: Progress) -> dict[str, tuple[str, str]]:
    """Members a dead worker left ``sending`` that the backend proves it has are recorded sent."""
    slug = factory.rendered.issue.slug
    confirmed = [Outcome(email, Status.SENT.value, message_id, "confirmed after a worker stopped")
                 for email, (state, message_id) in known.items()
                 if state == SENDING and message_id and backend.was_delivered(slug, email, message_id)]
    if confirmed:
        ledger.record_outcomes(send_id, confirmed)
        progress.confirmed += len(confirmed)
    return {o.email: (o.state, o.provider_id) for o in confirmed}


class Heartbeat(threading.Thread):
    """Renews the worker's leases on its own connection; if it cannot for a whole lease
    (the ledger unreachable), the worker stops: its batches may already be someone else's."""

    def __init__(self, ledger: SendLedger, send_id: int, worker: str, lease_seconds: float, stop: threading.Event):
        super().__init__(name="digest-heartbeat", daemon=True)
        self.target, self.send_id, self.worker = ledger.target, send_id, worker
        self.lease, self.stop_worker = lease_seconds, stop
        self.halted = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        ledger: SendLedger | None = None
        while not self.halted.wait(self.lease / 3):
            try:
                ledger = ledger or SendLedger(self.target)
                ledger.heartbeat(self.send_id, self.worker, self.lease)
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
