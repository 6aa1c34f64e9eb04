"""The ledger: state that must survive a crash, in one SQLite (WAL) file.

It holds the suppression list that every send honours (``suppressions.py``), one send
run per issue with a row per member (``sends.py``), the audience each send was taken
for (``audiences.py``) and the lease that keeps one send per issue running at a time
(``leases.py``). Writes commit before returning, so an unsubscribe is durable before the
web app answers, and several processes can share the file.
"""
from __future__ import annotations

from .audiences import AUDIENCE_SCHEMA, AudienceBlock, AudienceInfo, AudienceRow, AudienceStore, SkippedRow
from .database import utc_now
from .leases import LEASE_SCHEMA, Lease, LeaseLost, SendLeases
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SEND_SCHEMA, SEND_UPGRADES, SENDING, STATES,
                    SUPPRESSED, Delivery, Intent, Outcome, SendRun, SendRuns)
from .suppressions import SUPPRESSION_SCHEMA, Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "STATES", "SUPPRESSED", "AudienceBlock",
           "AudienceInfo", "AudienceRow", "Delivery", "Intent", "Lease", "LeaseLost", "Outcome", "SendLedger", "SendRun",
           "SkippedRow", "Suppression", "utc_now"]


class SendLedger(SendRuns, AudienceStore, SendLeases, SuppressionList):
    """One connection to the ledger file; use as a context manager."""

    SCHEMAS = (SUPPRESSION_SCHEMA, SEND_SCHEMA, AUDIENCE_SCHEMA, LEASE_SCHEMA)
    UPGRADES = SEND_UPGRADES
