"""One batch to one backend: retries with backoff, a connection per worker thread,
and the pacing that keeps a send under ``[sending] rate``."""
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
            return in_order(batch, outcomes, reasons), exc
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
    return in_order(batch, outcomes, reasons), whole_batch if pending and not stop.is_set() else None


def in_order(batch: Sequence[OutgoingMessage], outcomes: dict[int, Outcome], reasons: dict[int, str]) -> list[Outcome]:
    """Every message's outcome; those without an answer are deferred to the next run."""
    return [outcomes.get(i) or Outcome(m.recipient, DEFERRED, "", reasons.get(i, "")) for i, m in enumerate(batch)]


class Workers:
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
                return in_order(batch, {}, dict.fromkeys(range(len(batch)), str(exc))), exc
            self.local.backend = backend
            with self.lock:
                self.opened.append(backend)
        return deliver_batch(backend, batch, options, stop)

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
