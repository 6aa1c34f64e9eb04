"""One batch to one backend: retries with backoff (announced, so a wait is never
silent), outcomes handed on as soon as they are known, a connection per worker
thread, and the pacing that keeps a send under ``[sending] rate``."""
from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Sequence

from ..config import Settings
from ..errors import ConfigError, DeliveryError, TemporaryDeliveryError
from ..render.mime import OutgoingMessage
from ..store.ledger import DEFERRED, FAILED, Outcome
from .backends.base import Backend, Status

MAX_BACKOFF = 300.0  # seconds; a provider's Retry-After may ask for longer and is honoured


@dataclass(frozen=True)
class SendOptions:
    """``[sending]``: messages/second (0 = unlimited), parallel connections, retries of a
    temporary failure, members per batch (0 = the backend's maximum), backoff base (s),
    and how long a worker of a shared send holds a batch without a heartbeat (s)."""

    rate: float = 0.0
    concurrency: int = 1
    retries: int = 5
    batch_size: int = 0
    backoff: float = 1.0
    lease_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "SendOptions":
        table = settings.table("sending")
        options = cls(float(table["rate"]), int(table["concurrency"]), int(table["retries"]),
                      int(table["batch_size"]), float(table["backoff"]), float(table["lease_seconds"]))
        for name in ("rate", "retries", "batch_size", "backoff"):
            if getattr(options, name) < 0:
                raise ConfigError(f"[sending] {name} must not be negative")
        if options.concurrency < 1:
            raise ConfigError("[sending] concurrency must be at least 1")
        if options.lease_seconds < 1:
            raise ConfigError("[sending] lease_seconds must be at least 1")
        return options

    def batch_size_for(self, backend: Backend) -> int:
        """The configured size capped by the backend; with a rate and no size, about
        one batch a second, so the rate limit does not come out as bursts."""
        size = min(self.batch_size or backend.max_batch, backend.max_batch)
        if self.rate and not self.batch_size:
            size = min(size, max(1, int(self.rate)))
        return max(1, size)


def backoff_delay(base: float, attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never shorter than the provider asked for."""
    delay = min(MAX_BACKOFF, base * 2 ** attempt) * random.uniform(0.5, 1.5)
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class RetryNotice:
    """A wait before retrying, for the progress display: "retry 3/5 in 8 s"."""

    reason: str
    attempt: int     # the retry about to be made, from 1
    retries: int
    delay: float
    messages: int    # how many messages wait for it

    def describe(self) -> str:
        return (f"{self.reason}; retry {self.attempt}/{self.retries} of {self.messages:,} message(s) "
                f"in {self.delay:.0f} s")


Recorder = Callable[[list[Outcome]], None]
RetryHook = Callable[[RetryNotice], None]


def deliver_batch(backend: Backend, batch: Sequence[OutgoingMessage], options: SendOptions, stop: threading.Event,
                  record: Recorder, on_retry: RetryHook | None = None,
                  abort: threading.Event | None = None) -> DeliveryError | None:
    """Send one batch, retrying its temporary failures, and hand every message's final
    outcome to ``record`` as soon as it is known: after each message for a backend that
    acknowledges each one (SMTP, the outbox), after each call for a batch API. So a
    crash loses at most the outcome of the message on the wire.

    A failure of the whole batch that is permanent (bad credentials, unwritable outbox)
    or outlasts the retries (server unreachable) defers what is left and is returned so
    the run stops rather than trying every later batch. ``abort`` set (a second Ctrl-C,
    an error elsewhere) stops between two messages; the rest are deferred, never sent."""
    reasons: dict[int, str] = {}
    pending = list(range(len(batch)))
    whole_batch: DeliveryError | None = None
    for attempt in range(options.retries + 1):
        retry_after, whole_batch, still = None, None, []
        groups = [[i] for i in pending] if backend.acknowledges_each else [pending]
        for number, group in enumerate(groups):
            if abort is not None and abort.is_set():
                still.extend(i for g in groups[number:] for i in g)
                break
            try:
                results = backend.send_batch([batch[i] for i in group])
                if len(results) != len(group):
                    raise DeliveryError(f"backend {backend.name} answered {len(results)} results for {len(group)} messages")
            except TemporaryDeliveryError as exc:
                rest = [i for g in groups[number:] for i in g]
                reasons.update(dict.fromkeys(rest, str(exc)))
                still.extend(rest)
                retry_after, whole_batch = exc.retry_after, exc
                break
            except DeliveryError as exc:
                rest = [i for g in groups[number:] for i in g] + still
                reasons.update(dict.fromkeys(rest, str(exc)))
                record([_deferred(batch, i, reasons) for i in sorted(rest)])
                return exc
            final: list[Outcome] = []
            for index, result in zip(group, results):
                if result.status is Status.TEMPORARY:
                    still.append(index)
                    reasons[index] = result.reason
                elif result.status.delivered:
                    final.append(Outcome(batch[index].recipient, result.status.value, result.message_id))
                else:
                    final.append(Outcome(batch[index].recipient, FAILED, "", result.reason))
            if final:
                record(final)
        pending = still
        if not pending or attempt == options.retries or stop.is_set() or (abort is not None and abort.is_set()):
            break
        delay = backoff_delay(options.backoff, attempt, retry_after)
        if on_retry is not None:
            on_retry(RetryNotice(str(whole_batch or reasons[pending[0]]), attempt + 1, options.retries, delay, len(pending)))
        if stop.wait(delay):
            break
    if pending:
        record([_deferred(batch, i, reasons) for i in pending])
    return whole_batch if pending and whole_batch is not None and not stop.is_set() else None


def _deferred(batch: Sequence[OutgoingMessage], index: int, reasons: dict[int, str]) -> Outcome:
    """A message without an answer: deferred to the next run, with the last reason."""
    return Outcome(batch[index].recipient, DEFERRED, "", reasons.get(index, "not sent: the run was stopped"))


class Workers:
    """One backend instance (one connection) per worker thread, closed at the end."""

    def __init__(self, make_backend: Callable[[], Backend]):
        self.make_backend = make_backend
        self.local = threading.local()
        self.opened: list[Backend] = []
        self.lock = threading.Lock()

    def deliver(self, batch: Sequence[OutgoingMessage], options: SendOptions, stop: threading.Event,
                record: Recorder, on_retry: RetryHook | None = None,
                abort: threading.Event | None = None) -> DeliveryError | None:
        backend = getattr(self.local, "backend", None)
        if backend is None:
            backend = self.make_backend()
            try:
                backend.open()
            except DeliveryError as exc:
                record([Outcome(m.recipient, DEFERRED, "", str(exc)) for m in batch])
                return exc
            self.local.backend = backend
            with self.lock:
                self.opened.append(backend)
        return deliver_batch(backend, batch, options, stop, record, on_retry, abort)

    def close(self) -> None:
        for backend in self.opened:
            backend.close()


class Inline:
    """The executor for ``concurrency = 1``: batches run on the calling thread, so the
    personalising thread and a sending thread do not trade the GIL on every reply."""

    def __enter__(self) -> "Inline":
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


class RateLimiter:
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
