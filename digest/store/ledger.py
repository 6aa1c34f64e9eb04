"""The ledger: state that must survive a crash, in one SQLite (WAL) file.

It holds the members (``members.py``: profile, status, consent), whose statuses are
the suppression list every send honours (``suppressions.py``), confirmation requests
(``confirmations.py``), what is kept of forgotten addresses (``privacy.py``), and one
send run per issue with a row per member (``sends.py``). Writes commit before
returning, so an unsubscribe is durable before the web app answers, and several
processes can share the file.
"""
from __future__ import annotations

from .confirmations import CONFIRMATIONS_SCHEMA, Confirmation, ConfirmationStore, ConfirmOutcome
from .database import utc_now
from .members import MEMBERS_SCHEMA, STATUSES, Consent, StoredMember
from .privacy import PRIVACY_SCHEMA
from .sends import (DEFERRED, DELIVERED_STATES, FAILED, FINAL_STATES, SEND_SCHEMA, SENDING, Delivery, Outcome,
                    SendRun, SendRuns)
from .suppressions import SUPPRESSION_SCHEMA, Suppression, SuppressionList

__all__ = ["DELIVERED_STATES", "DEFERRED", "FAILED", "FINAL_STATES", "SENDING", "STATUSES", "Confirmation", "ConfirmOutcome",
           "Consent", "Delivery", "Outcome", "SendLedger", "SendRun", "StoredMember", "Suppression", "utc_now"]


class SendLedger(SendRuns, SuppressionList, ConfirmationStore):
    """One connection to the ledger file; use as a context manager."""

    SCHEMAS = (MEMBERS_SCHEMA, SUPPRESSION_SCHEMA, PRIVACY_SCHEMA, CONFIRMATIONS_SCHEMA, SEND_SCHEMA)
