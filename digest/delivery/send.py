"""The send loop: members in, batches to the backend, every answer into the ledger.

Exactly-once as far as a crash allows: a batch's rows are committed as ``sending`` (with
our Message-ID) before the backend sees it, and its answers are committed when they
arrive; nothing is ever marked sent before the provider said so (Mailtrain's bug) and
no cursor moves before a batch is acknowledged (listmonk's). At most ``concurrency``
batches are in flight, so a crash leaves at most ``batch size x concurrency`` members
uncertain; on resume the backend is asked whether it has them (the outbox can tell),
the rest are sent again under the same Message-ID.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from ..members.file import chunks
from ..render.mime import MessageFactories, MessageFactory, OutgoingMessage
from ..store.ledger import DEFERRED, FAILED, SENDING, Outcome, SendLedger
from .audience import Candidate, select_members
from .backends.base import Backend, Status
from .batches import Inline, RateLimiter, SendOptions, Workers

@dataclass
class Progress:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    confirmed: int = 0   # in flight when an earlier run died, found delivered
    remaining: int = 0
    started: float = field(default_factory=time.monotonic)

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


def send_issue(
    factory: MessageFactory | MessageFactories,
    members_path: str | Path | None,
    ledger: SendLedger,
    make_backend: Callable[[], Backend],
    options: SendOptions,
    *,
    to_send: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send the issue to every member not yet done (of the members file, or of the store
    when ``members_path`` is None); setting ``stop`` ends it after the
    batches in flight. Raises DeliveryError (after recording) if the backend fails for good."""
    stop = stop or threading.Event()
    slug = factory.rendered.issue.slug
    first = make_backend()
    run = ledger.start_send(slug, first.name)
    progress = Progress(remaining=to_send)
    progress.confirmed, uncertain = reconcile(ledger, run.id, slug, first)
    progress.remaining = max(0, to_send - progress.confirmed)
    workers = Workers(make_backend)
    batches = chunks(_messages(factory, members_path, ledger, run.id), options.batch_size_for(first))
    limiter = RateLimiter(options.rate)
    in_flight: dict[Future, Sequence[OutgoingMessage]] = {}
    fatal: DeliveryError | None = None

    def collect(done: Iterable[Future]) -> None:
        nonlocal fatal
        for future in done:
            in_flight.pop(future)
            outcomes, error = future.result()
            ledger.record_outcomes(run.id, outcomes)
            _count(progress, outcomes)
            fatal = fatal or error
        if on_progress is not None:
            on_progress(progress)

    pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="digest-send") if options.concurrency > 1 else Inline()
    with pool:
        try:
            for batch in batches:
                while len(in_flight) >= options.concurrency:
                    collect(wait(in_flight, return_when=FIRST_COMPLETED).done)
                if stop.is_set() or fatal is not None or not limiter.wait(len(batch), stop):
                    break
                ledger.record_intent(run.id, [(m.recipient, m.message_id) for m in batch])
                in_flight[pool.submit(workers.deliver, batch, options, stop)] = batch
            while in_flight:
                collect(wait(in_flight, return_when=FIRST_COMPLETED).done)
        except BaseException:
            stop.set()  # end the workers' retries quickly; their rows stay uncertain
            raise
        finally:
            pool.shutdown(wait=True)
            workers.close()
            first.close()
    interrupted = stop.is_set()
    complete = not interrupted and fatal is None and progress.deferred == 0
    ledger.finish_send(run.id, complete)
    if fatal is not None:
        raise fatal
    return SendReport(slug, progress, uncertain, interrupted, complete)


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


def _count(progress: Progress, outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.state == FAILED:
            progress.failed += 1
        elif outcome.state == DEFERRED:
            progress.deferred += 1
        else:
            progress.sent += 1
        progress.remaining = max(0, progress.remaining - 1)


def _messages(factory: MessageFactory | MessageFactories, members_path: str | Path | None, ledger: SendLedger, send_id: int) -> Iterator[OutgoingMessage]:
    """Personalised messages for members not yet done; a member tried before keeps its Message-ID."""
    for row in select_members(members_path, ledger, send_id):
        if isinstance(row, Candidate) and not row.done:
            previous_id = row.message_id if row.state in (SENDING, DEFERRED) and row.message_id else None
            member = row.member
            yield factory.personalise(member.email, member.name, member.fields, message_id=previous_id, language=member.language)


