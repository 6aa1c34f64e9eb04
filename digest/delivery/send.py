"""The send loop: the audience snapshot in, batches to the backend, every answer into the ledger.

Exactly-once as far as a crash allows: a batch's rows are committed as ``sending`` (with
our Message-ID) before the backend sees it, and each answer is committed as it arrives:
per message where the protocol acknowledges each one (SMTP, the outbox), per call for
batch APIs. Nothing is marked sent before the provider said so (Mailtrain's bug) and no
cursor moves before a message is acknowledged (listmonk's).

Duplicate bounds after a crash (SIGKILL): one message per connection for SMTP (the one
on the wire), none for the outbox (it can prove delivery), one batch per connection for
batch APIs. Per-message commits skip the fsync (they survive the process dying, not a
power cut); the next batch's intent commit fsyncs them all, so after a power cut the
bound is one batch per connection for every backend.

No error loses an outcome: when anything stops the run (Ctrl-C twice, a ledger error, a
bug), in-flight batches are drained and their answers recorded before it ends; a member
whose message cannot be built, or who was suppressed after the audience was taken, is
recorded as such and the send goes on.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from ..errors import DeliveryError, DigestError
from ..members.file import chunks
from ..render.mime import MessageFactories, MessageFactory, OutgoingMessage
from ..store.ledger import (DEFERRED, FAILED, FINAL_STATES, SENDING, SUPPRESSED, AudienceRow, Intent, Outcome,
                            SendLedger, SendRun)
from ..store.space import ensure_room
from .backends.base import Backend, Status
from .batches import Inline, RateLimiter, RetryHook, RetryNotice, SendOptions, Workers


@dataclass
class Progress:
    total: int = 0       # members not yet final when the run started
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    suppressed: int = 0  # suppressed after the audience was taken
    confirmed: int = 0   # in flight when an earlier run died, found delivered
    remaining: int = 0
    retry: RetryNotice | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.deferred + self.suppressed

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True)
class SendReport:
    issue: str
    progress: Progress
    uncertain: int     # left in flight by an earlier run and sent again
    interrupted: bool
    complete: bool


def build_message(factory: MessageFactory | MessageFactories, row: AudienceRow) -> OutgoingMessage:
    """One member's message, in the edition for the member's language (``MessageFactories``
    picks it; a single ``MessageFactory`` is one edition). A member tried before keeps
    its Message-ID."""
    previous = row.message_id if row.state in (SENDING, DEFERRED) and row.message_id else None
    return factory.personalise(row.email, row.name, row.fields, message_id=previous, language=row.language)


class _Recorder:
    """Records outcomes from any worker thread as they arrive, and counts them."""

    def __init__(self, ledger: SendLedger, send_id: int, progress: Progress,
                 on_progress: Callable[[Progress], None] | None):
        self.ledger, self.send_id, self.progress, self.on_progress = ledger, send_id, progress, on_progress
        self.lock = threading.Lock()

    def __call__(self, outcomes: list[Outcome]) -> None:
        self.ledger.record_outcomes(self.send_id, outcomes, durable=False)
        self.count(outcomes)

    def unsent(self, outcomes: list[Outcome]) -> None:
        self.ledger.record_unsent(self.send_id, outcomes)
        self.count(outcomes)

    def count(self, outcomes: Iterable[Outcome]) -> None:
        with self.lock:
            for outcome in outcomes:
                if outcome.state == FAILED:
                    self.progress.failed += 1
                elif outcome.state == DEFERRED:
                    self.progress.deferred += 1
                elif outcome.state == SUPPRESSED:
                    self.progress.suppressed += 1
                else:
                    self.progress.sent += 1
                self.progress.remaining = max(0, self.progress.remaining - 1)
            self.progress.retry = None
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def retried(self, notice: RetryNotice) -> None:
        self.progress.retry = notice
        if self.on_progress is not None:
            self.on_progress(self.progress)


def send_issue(
    factory: MessageFactory | MessageFactories,
    ledger: SendLedger,
    run: SendRun,
    make_backend: Callable[[], Backend],
    options: SendOptions,
    *,
    fence: Callable[[], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_retry: RetryHook | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send the issue to every member of the run's audience snapshot not yet done.
    Setting ``stop`` ends it after the batches in flight; ``fence`` (the lease's) runs in
    every intent transaction. Raises DeliveryError (after recording) if the backend fails
    for good, LedgerError if the ledger cannot record, always after draining."""
    stop = stop or threading.Event()
    abort = threading.Event()
    slug = factory.rendered.issue.slug
    first = make_backend()
    try:
        confirmed, uncertain = reconcile(ledger, run.id, slug, first)
        to_send, _ = ledger.audience_progress(run.id)
        progress = Progress(total=to_send, remaining=to_send, confirmed=confirmed)
        recorder = _Recorder(ledger, run.id, progress, on_progress)

        def retried(notice: RetryNotice) -> None:
            recorder.retried(notice)
            if on_retry is not None:
                on_retry(notice)

        with ledger.relaxed_sync():
            fatal = _run_batches(factory, ledger, run, make_backend, first, options, recorder, retried, fence, stop, abort)
    finally:
        first.close()
    interrupted = stop.is_set() and fatal is None
    remaining, _ = ledger.audience_progress(run.id)
    complete = remaining == 0
    ledger.finish_send(run.id, complete)
    if fatal is not None:
        raise fatal
    return SendReport(slug, progress, uncertain, interrupted and not complete, complete)


def _run_batches(factory: MessageFactory | MessageFactories, ledger: SendLedger, run: SendRun, make_backend: Callable[[], Backend],
                 first: Backend, options: SendOptions, recorder: _Recorder, on_retry: RetryHook,
                 fence: Callable[[], None] | None, stop: threading.Event, abort: threading.Event) -> DeliveryError | None:
    workers = Workers(make_backend)
    limiter = RateLimiter(options.rate)
    in_flight: dict[Future, int] = {}
    fatal: DeliveryError | None = None
    failure: BaseException | None = None

    def collect(done: Iterable[Future]) -> None:
        nonlocal fatal, failure
        for future in done:
            in_flight.pop(future)
            try:
                fatal = fatal or future.result()
            except BaseException as exc:  # the worker could not record, or a bug: stop, keep the first
                abort.set()
                failure = failure or exc

    messages = _messages(factory, ledger, run.id, recorder)
    pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="digest-send") if options.concurrency > 1 else Inline()
    try:
        for batch in chunks(messages, options.batch_size_for(first)):
            while len(in_flight) >= options.concurrency:
                collect(wait(in_flight, return_when=FIRST_COMPLETED).done)
            if stop.is_set() or fatal is not None or failure is not None or not limiter.wait(len(batch), stop):
                break
            if ledger.path is not None:  # a database server's room is its administrator's
                ensure_room(ledger.path, len(batch))
            ledger.record_intent(run.id, [Intent(m.recipient, m.message_id, language) for m, language in batch], fence)
            outgoing = [m for m, _ in batch]
            in_flight[pool.submit(workers.deliver, outgoing, options, stop, recorder, on_retry, abort)] = len(outgoing)
    except BaseException:
        abort.set()  # end the workers' retries and batches between two messages; their answers are still recorded
        stop.set()
        raise
    finally:
        while in_flight:  # drain: every answer of a batch handed over is recorded before the run ends
            collect(wait(in_flight, return_when=FIRST_COMPLETED).done)
        pool.shutdown(wait=True)
        workers.close()
    if failure is not None:
        raise failure
    return fatal


def _messages(factory: MessageFactory | MessageFactories, ledger: SendLedger, send_id: int,
              recorder: _Recorder) -> Iterator[tuple[OutgoingMessage, str]]:
    """(message, language) for snapshot members not yet done, a block at a time; members
    suppressed since the snapshot and messages that cannot be built are recorded instead."""
    after = 0
    while rows := ledger.audience_block(send_id, after):
        after = rows[-1].position
        messages, unsent = build_messages(factory, ledger, [row for row in rows if row.state not in FINAL_STATES])
        yield from messages
        if unsent:
            recorder.unsent(unsent)


def build_messages(factory: MessageFactory | MessageFactories, ledger: SendLedger,
                   todo: list[AudienceRow]) -> tuple[list[tuple[OutgoingMessage, str]], list[Outcome]]:
    """(message, language) for each member of ``todo`` still to mail, and an outcome for
    each that will not be: suppressed since the snapshot, or data that cannot go into a
    message (refused, never retried). Shared by the single send and the workers."""
    suppressed = ledger.suppressed_among([row.email for row in todo]) if todo else set()
    messages: list[tuple[OutgoingMessage, str]] = []
    unsent: list[Outcome] = []
    for row in todo:
        if row.email.lower() in suppressed:
            unsent.append(Outcome(row.email, SUPPRESSED, "", "suppressed after the audience was taken"))
            continue
        try:
            messages.append((build_message(factory, row), row.language))
        except DigestError as exc:
            unsent.append(Outcome(row.email, FAILED, "", f"line {row.line}: the message cannot be built: {exc}"))
    return messages, unsent


def reconcile(ledger: SendLedger, send_id: int, issue_slug: str, backend: Backend) -> tuple[int, int]:
    """Settle rows an earlier run left ``sending``: those the backend proves it has are
    marked sent; the rest stay ``sending`` and are sent again. Returns (confirmed, uncertain)."""
    confirmed: list[Outcome] = []
    in_flight = ledger.in_flight(send_id)
    for email, message_id in in_flight:
        if message_id and backend.was_delivered(issue_slug, email, message_id):
            confirmed.append(Outcome(email, Status.SENT.value, message_id, "confirmed after an interrupted run"))
    if confirmed:
        ledger.record_outcomes(send_id, confirmed)
    return len(confirmed), len(in_flight) - len(confirmed)


__all__ = ["Progress", "SendReport", "build_message", "reconcile", "send_issue"]
