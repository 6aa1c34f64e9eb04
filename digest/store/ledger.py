"""The ledger: state that must survive a crash, in one SQLite (WAL) file.

It holds the members (``members.py``: profile, status, consent), whose statuses are
the suppression list every send honours (``suppressions.py``), confirmation requests
(``confirmations.py``), what is kept of forgotten addresses (``privacy.py``), one send
run per issue with a row per member (``sends.py``), the audience each send was taken
for (``audiences.py``) and the lease that keeps one send per issue running at a time
(``leases.py``). Writes commit before returning, so an unsubscribe is durable before the
web app answers, and several processes can share the file.
"""
from __future__ import annotations

from .audiences import AUDIENCE_SCHEMA, AudienceBlock, AudienceInfo, AudienceRow, AudienceStore, SkippedRow
from .confirmations import CONFIRMATIONS_SCHEMA, Confirmation, ConfirmationStore, ConfirmOutcome
from .database import utc_now
from .leases import LEASE_SCHEMA, Lease, LeaseLost, SendLeases
from .members import MEMBERS_SCHEMA, STATUSES, Consent, StoredMember
from .privacy import PRIVACY_SCHEMA
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SEND_SCHEMA, SEND_UPGRADES, SENDING, STATES,
                    SUPPRESSED, Delivery, Intent, Outcome, SendRun, SendRuns)
from .suppressions import SUPPRESSION_SCHEMA, Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "STATES", "STATUSES", "SUPPRESSED",
           "AudienceBlock", "AudienceInfo", "AudienceRow", "Confirmation", "ConfirmOutcome", "Consent", "Delivery", "Intent",
           "Lease", "LeaseLost", "Outcome", "SendLedger", "SendRun", "SkippedRow", "StoredMember", "Suppression", "utc_now"]


class SendLedger(SendRuns, AudienceStore, SendLeases, SuppressionList, ConfirmationStore):
    """One connection to the ledger file; use as a context manager."""

    SCHEMAS = (MEMBERS_SCHEMA, SUPPRESSION_SCHEMA, PRIVACY_SCHEMA, CONFIRMATIONS_SCHEMA, SEND_SCHEMA, AUDIENCE_SCHEMA,
               LEASE_SCHEMA)
    UPGRADES = SEND_UPGRADES
