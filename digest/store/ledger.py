"""The ledger: state that must survive a crash, in an SQLite (WAL) file or a PostgreSQL database.

It holds the suppression list that every send honours (``suppressions.py``), one
send run per issue with a row per member (``sends.py``), and for sends shared by
workers their audience, batches, leases and pacing (``shared.py``). Writes commit before
returning, so an unsubscribe is durable before the web app answers, and several
processes can share the file.
"""
from __future__ import annotations

from .database import utc_now
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SENDING, Delivery, Outcome,
                    SendRun, SendRuns)
from .shared import AudienceMember, Claim, SharedSends, WorkerStatus
from .suppressions import Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "AudienceMember", "Claim", "Delivery",
           "Outcome", "SendLedger", "SendRun", "Suppression", "WorkerStatus", "utc_now"]


class SendLedger(SendRuns, SuppressionList, SharedSends):
    """One connection to the ledger (a file or a PostgreSQL database); use as a context manager."""
