"""The ledger: state that must survive a crash, in an SQLite (WAL) file or a PostgreSQL database.

It holds the members (``members.py``: profile, status, consent), whose statuses are
the suppression list every send honours (``suppressions.py``), confirmation requests
(``confirmations.py``), what is kept of forgotten addresses (``privacy.py``), one send
run per issue with a row per member (``sends.py``), the audience each send was taken
for (``audiences.py``), the lease that keeps one send per issue running at a time
(``leases.py``), and for sends shared by workers their batches, the workers' leases and
one shared rate (``shared.py``). Writes commit before returning, so an unsubscribe is
durable before the web app answers, and several processes can share the ledger.
"""
from __future__ import annotations

from .audiences import AudienceBlock, AudienceInfo, AudienceRow, AudienceStore, SkippedRow
from .confirmations import Confirmation, ConfirmationStore, ConfirmOutcome
from .database import utc_now
from .leases import Lease, LeaseLost, SendLeases
from .members import STATUSES, Consent, StoredMember
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SENDING, STATES, SUPPRESSED, Delivery, Intent,
                    Outcome, SendRun, SendRuns)
from .shared import Claim, SharedSends, WorkerStatus
from .suppressions import Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "STATES", "STATUSES", "SUPPRESSED",
           "AudienceBlock", "AudienceInfo", "AudienceRow", "Claim", "Confirmation", "ConfirmOutcome", "Consent", "Delivery",
           "Intent", "Lease", "LeaseLost", "Outcome", "SendLedger", "SendRun", "SkippedRow", "StoredMember", "Suppression",
           "WorkerStatus", "utc_now"]


class SendLedger(SendRuns, AudienceStore, SendLeases, SuppressionList, ConfirmationStore, SharedSends):
    """One connection to the ledger (a file or a PostgreSQL database); use as a context manager."""
