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

import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .backends.base import Backend, Status
from ..config import Settings
from ..errors import ConfigError, DeliveryError, TemporaryDeliveryError
from ..store.ledger import DEFERRED, FAILED, FINAL_STATES, SENDING, Outcome, SendLedger
from ..members.file import Member, SkippedMember, chunks, iter_members, without_duplicates
from ..render.mime import MessageFactory, OutgoingMessage

MAX_BACKOFF = 300.0  # seconds; a provider's Retry-After may ask for longer and is honoured


@dataclass(frozen=True)
class SendOptions:
    """``[sending]``: messages/second (0 = unlimited), parallel connections, retries of a
    temporary failure, members per batch (0 = the backend's maximum), backoff base (s)."""

    rate: float = 0.0
    concurrency: int = 1
    retries: int = 5
    batch_size: int = 0
    backoff: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SendOptions":
        table = settings.table("sending")
        options = cls(float(table["rate"]), int(table["concurrency"]), int(table["retries"]),
                      int(table["batch_size"]), float(table["backoff"]))
        for name in ("rate", "retries", "batch_size", "backoff"):
            if getattr(options, name) < 0:
                raise ConfigError(f"[sending] {name} must not be negative")
        if options.concurrency < 1:
            raise ConfigError("[sending] concurrency must be at least 1")
        return options

    def batch_size_for(self, backend: Backend) -> int:
        """The configured size capped by the backend; with a rate and no size, about
        one batch a second, so the rate limit does not come out as bursts."""
        size = min(self.batch_size or backend.max_batch, backend.max_batch)
        if self.rate and not self.batch_size:
            size = min(size, max(1, int(self.rate)))
        return max(1, size)


@dataclass
class Audience:
    """Who an issue would go to, counted before anything is sent."""

    to_send: int = 0
    done: int = 0      # delivered or refused for good in an earlier run
    skipped: Counter = field(default_factory=Counter)
    examples: list[SkippedMember] = field(default_factory=list)

    EXAMPLES = 5


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


@dataclass(frozen=True)
class Candidate:
    """A member who may get the issue, with what the ledger knows of them for it."""

    member: Member
    state: str = ""       # "" when never tried
    message_id: str = ""

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES


def select_members(path: str | Path, ledger: SendLedger | None, send_id: int | None = None,
                   block: int = 500) -> Iterator[Candidate | SkippedMember]:
    """The members file without duplicates and suppressed addresses, each with its
    ledger state; the ledger is asked a block of members at a time."""
    for rows in chunks(without_duplicates(iter_members(path)), block):
        emails = [row.email for row in rows if isinstance(row, Member)]
        suppressed = ledger.suppressed_among(emails) if ledger is not None and emails else set()
        known = ledger.deliveries_among(send_id, emails) if ledger is not None and send_id is not None and emails else {}
        for row in rows:
            if isinstance(row, SkippedMember):
                yield row
            elif row.email.lower() in suppressed:
                yield SkippedMember(row.line, row.email, "suppressed")
            else:
                yield Candidate(row, *known.get(row.email.lower(), ("", "")))


def skip_kind(skipped: SkippedMember) -> str:
    if skipped.reason.startswith("duplicate"):
        return "duplicate"
    return "suppressed" if skipped.reason == "suppressed" else "invalid"


def survey(path: str | Path, ledger: SendLedger | None, issue_slug: str) -> Audience:
    """Count members to send, already done and skipped, streaming the file once."""
    audience = Audience()
    run = ledger.send_run(issue_slug) if ledger is not None else None
    for row in select_members(path, ledger, run.id if run is not None else None):
        if isinstance(row, SkippedMember):
            audience.skipped[skip_kind(row)] += 1
            if len(audience.examples) < Audience.EXAMPLES:
                audience.examples.append(row)
            continue
        if row.done:
            audience.done += 1
        else:
            audience.to_send += 1
    return audience


def send_issue(
    factory: MessageFactory,
    members_path: str | Path,
    ledger: SendLedger,
    make_backend: Callable[[], Backend],
    options: SendOptions,
    *,
    to_send: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send the issue to every member not yet done; setting ``stop`` ends it after the
    batches in flight. Raises DeliveryError (after recording) if the backend fails for good."""
    stop = stop or threading.Event()
    slug = factory.rendered.issue.slug
    first = make_backend()
    run = ledger.start_send(slug, first.name)
    progress = Progress(remaining=to_send)
    progress.confirmed, uncertain = reconcile(ledger, run.id, slug, first)
    progress.remaining = max(0, to_send - progress.confirmed)
    workers = _Workers(make_backend)
    batches = chunks(_messages(factory, members_path, ledger, run.id), options.batch_size_for(first))
    limiter = _RateLimiter(options.rate)
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

    pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="digest-send") if options.concurrency > 1 else _Inline()
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


def backoff_delay(base: float, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never shorter than the provider asked for."""
    delay = min(MAX_BACKOFF, base * 2 ** attempt) * random.uniform(0.5, 1.5)
    return max(delay, retry_after or 0.0)


def deliver_batch(backend: Backend, batch: Sequence[OutgoingMessage], options: SendOptions,
                  stop: threading.Event) -> tuple[list[Outcome], DeliveryError | None]:
    """Send one batch, retrying its temporary failures; one Outcome per message, in order.
    A failure of the whole batch that is permanent (bad credentials, unwritable outbox)
    or outlasts the retries (server unreachable) defers the batch and is returned so
    the run stops rather than trying every later batch."""
    outcomes: dict[int, Outcome] = {}
    reasons: dict[int, str] = {}
    pending = list(range(len(batch)))
    whole_batch: TemporaryDeliveryError | None = None
    for attempt in range(options.retries + 1):
        retry_after, whole_batch = None, None
        try:
            results = backend.send_batch([batch[i] for i in pending])
            if len(results) != len(pending):
                raise DeliveryError(f"backend {backend.name} answered {len(results)} results for {len(pending)} messages")
        except TemporaryDeliveryError as exc:
            reasons.update(dict.fromkeys(pending, str(exc)))
            retry_after, whole_batch = exc.retry_after, exc
        except DeliveryError as exc:
            reasons.update(dict.fromkeys(pending, str(exc)))
            return _in_order(batch, outcomes, reasons), exc
        else:
            still = []
            for index, result in zip(pending, results):
                if result.status is Status.TEMPORARY:
                    still.append(index)
                    reasons[index] = result.reason
                elif result.status.delivered:
                    outcomes[index] = Outcome(batch[index].recipient, result.status.value, result.message_id)
                else:
                    outcomes[index] = Outcome(batch[index].recipient, FAILED, "", result.reason)
            pending = still
        if not pending or attempt == options.retries or stop.wait(backoff_delay(options.backoff, attempt, retry_after)):
            break
    return _in_order(batch, outcomes, reasons), whole_batch if pending and not stop.is_set() else None


def _in_order(batch: Sequence[OutgoingMessage], outcomes: dict[int, Outcome], reasons: dict[int, str]) -> list[Outcome]:
    """Every message's outcome; those without an answer are deferred to the next run."""
    return [outcomes.get(i) or Outcome(m.recipient, DEFERRED, "", reasons.get(i, "")) for i, m in enumerate(batch)]


def _count(progress: Progress, outcomes: Iterable[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.state == FAILED:
            progress.failed += 1
        elif outcome.state == DEFERRED:
            progress.deferred += 1
        else:
            progress.sent += 1
        progress.remaining = max(0, progress.remaining - 1)


def _messages(factory: MessageFactory, members_path: str | Path, ledger: SendLedger, send_id: int) -> Iterator[OutgoingMessage]:
    """Personalised messages for members not yet done; a member tried before keeps its Message-ID."""
    for row in select_members(members_path, ledger, send_id):
        if isinstance(row, Candidate) and not row.done:
            previous_id = row.message_id if row.state in (SENDING, DEFERRED) and row.message_id else None
            member = row.member
            yield factory.personalise(member.email, member.name, member.fields, message_id=previous_id)


class _Workers:
    """One backend instance (one connection) per worker thread, closed at the end."""

    def __init__(self, make_backend: Callable[[], Backend]):
        self.make_backend = make_backend
        self.local = threading.local()
        self.opened: list[Backend] = []
        self.lock = threading.Lock()

    def deliver(self, batch: Sequence[OutgoingMessage], options: SendOptions,
                stop: threading.Event) -> tuple[list[Outcome], DeliveryError | None]:
        backend = getattr(self.local, "backend", None)
        if backend is None:
            backend = self.make_backend()
            try:
                backend.open()
            except DeliveryError as exc:
                return _in_order(batch, {}, dict.fromkeys(range(len(batch)), str(exc))), exc
            self.local.backend = backend
            with self.lock:
                self.opened.append(backend)
        return deliver_batch(backend, batch, options, stop)

    def close(self) -> None:
        for backend in self.opened:
            backend.close()


class _Inline:
    """The executor for ``concurrency = 1``: batches run on the calling thread, so the
    personalising thread and a sending thread do not trade the GIL on every reply."""

    def __enter__(self) -> "_Inline":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def submit(self, fn: Callable, *args: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True) -> None:
        pass


class _RateLimiter:
    """Spaces batches so the average stays at ``rate`` messages a second."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    def wait(self, count: int, stop: threading.Event) -> bool:
        """False if ``stop`` was set while waiting."""
        if not self.interval:
            return True
        delay = self.next - time.monotonic()
        if delay > 0 and stop.wait(delay):
            return False
        self.next = max(self.next, time.monotonic()) + count * self.interval
        return True
