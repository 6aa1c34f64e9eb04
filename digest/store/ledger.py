"""The ledger: state that must survive a crash, in one SQLite (WAL) file.

It holds the suppression list that every send honours (``suppressions.py``) and one
send run per issue with a row per member (``sends.py``). Writes commit before
returning, so an unsubscribe is durable before the web app answers, and several
processes can share the file.
"""
from __future__ import annotations

from .database import utc_now
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SEND_SCHEMA, SENDING, Delivery, Outcome,
                    SendRun, SendRuns)
from .suppressions import SUPPRESSION_SCHEMA, Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "Delivery", "Outcome", "SendLedger",
           "SendRun", "Suppression", "utc_now"]


class SendLedger(SendRuns, SuppressionList):
    """One connection to the ledger file; use as a context manager."""

    SCHEMAS = (SUPPRESSION_SCHEMA, SEND_SCHEMA)
