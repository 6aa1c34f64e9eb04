"""A sliding-window rate limit per client, for the sign-up form.

Kept in the app's memory: it answers within one process (``digest serve``, or each
worker of a WSGI server), which is what stops a burst from one address; the other limit,
one confirmation email per address per hour, lives in the store and holds across
processes. Old entries are dropped as they age, so memory follows recent clients only.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable


class RateLimiter:
    """At most ``limit`` hits per ``period`` seconds for each key."""

    def __init__(self, limit: int, period: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.period = period
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def hit(self, key: str) -> int:
        """Count one hit for ``key``: 0 if allowed, else the whole seconds until one is."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.period:
                hits.popleft()
            if self.limit > 0 and len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.period - now))
            hits.append(now)
            return 0

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.period
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.period]:
            del self._hits[key]
