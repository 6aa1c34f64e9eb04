"""Holding an issue's send lease for the length of a run: taken at the start, kept
alive by a heartbeat thread (on its own ledger connection, so a long retry wait or a
slow batch never lets it go stale), and released at the end, also after errors.

If the heartbeat finds the lease taken over (this process was stopped for longer than
``STALE_AFTER`` and another run took the send), ``lost`` is set and the ``stop`` event
given is set, so the run stops; the intent fence in the ledger refuses its next batch
in any case.
"""
from __future__ import annotations

import threading
from pathlib import Path

from ..errors import LedgerError
from ..store.leases import HEARTBEAT_EVERY, Lease, LeaseLost, SendLeases
from ..store.ledger import SendLedger


class HeldLease:
    """``with HeldLease(ledger, slug, stop) as held:`` — ``held.lease`` is ours,
    ``held.taken_over`` the stale lease we replaced (and ``held.why`` why it was stale)."""

    def __init__(self, ledger: SendLedger, issue_slug: str, stop: threading.Event | None = None,
                 every: float = HEARTBEAT_EVERY):
        self.ledger, self.issue_slug, self.stop, self.every = ledger, issue_slug, stop, every
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.lease: Lease | None = None
        self.taken_over: Lease | None = None
        self.why = ""

    def __enter__(self) -> "HeldLease":
        self.lease, self.taken_over, self.why = self.ledger.acquire_lease(self.issue_slug)
        self._thread = threading.Thread(target=self._beat, args=(self.ledger.target,), name="digest-lease", daemon=True)
        self._thread.start()
        return self

    def fence(self) -> None:
        """Run inside the intent transaction: raises LeaseLost if the lease is no longer ours."""
        assert self.lease is not None
        self.ledger.renew_lease(self.lease)

    def _beat(self, target: str | Path) -> None:
        assert self.lease is not None
        try:
            with SendLeases(target) as own_connection:
                while not self._done.wait(self.every):
                    try:
                        own_connection.renew_lease(self.lease)
                    except LeaseLost:
                        raise
                    except LedgerError:
                        continue  # locked for a moment: the next beat tries again
        except LeaseLost:
            self.lost.set()
            if self.stop is not None:
                self.stop.set()
        except LedgerError:
            pass  # cannot even open the ledger: the intent fence still guards every batch

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.lease is None or self.lost.is_set():
            return
        try:
            self.ledger.release_lease(self.lease)
        except LedgerError:
            if exc_type is None:
                raise
            # the error already on its way out says more; the lease goes stale and is taken over
