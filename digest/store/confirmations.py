"""Double opt-in: confirmation requests, each usable once before it expires.

A sign-up (or a resubscribe) records a confirmation with the name and language asked
for; the member becomes ``subscribed`` only when the link is used, and only then do
those values replace the member's, since only the owner of the inbox can use it. At
most one confirmation per address per ``interval`` is granted, decided inside the
write transaction so concurrent sign-ups for one address get exactly one email.
"""
from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .members import PENDING, Consent, MemberStore, Profile
from .privacy import MemberPrivacy


class ConfirmOutcome(str, enum.Enum):
    CONFIRMED = "confirmed"
    USED = "used"          # single use: a second POST of the same link
    EXPIRED = "expired"
    UNKNOWN = "unknown"    # no such confirmation (never issued, or the address was forgotten)


@dataclass(frozen=True)
class Confirmation:
    id: str
    email: str
    name: str
    language: str
    requested_at: str
    expires_at: str
    used_at: str

    def state(self, now: datetime | None = None) -> ConfirmOutcome | None:
        """Why this confirmation can no longer be used, or None while it can."""
        if self.used_at:
            return ConfirmOutcome.USED
        if _stamp(now or _now()) >= self.expires_at:
            return ConfirmOutcome.EXPIRED
        return None


class ConfirmationStore(MemberPrivacy, MemberStore):
    """Confirmation requests on the ledger's connection."""

    def request_confirmation(self, address: str, name: str, language: str, *, interval: float,
                             lifetime: float) -> Confirmation | None:
        """Record a confirmation for ``address`` (creating a ``pending`` member if it is new);
        None when one was granted less than ``interval`` seconds ago or the address was
        forgotten. ``lifetime`` is in seconds."""
        email = address.lower()
        now = _now()
        with self.transaction():
            if self.is_forgotten(email):
                return None
            recent = self.db.execute("SELECT 1 FROM confirmations WHERE email = ? AND requested_at > ? LIMIT 1",
                                     (email, _stamp(now - timedelta(seconds=interval)))).fetchone()
            if recent is not None:
                return None
            if self.member(email) is None:
                self.insert_member(address, Profile(name, language), PENDING, reason="signup", source="web")
            confirmation = Confirmation(secrets.token_hex(16), email, name, language, _stamp(now),
                                        _stamp(now + timedelta(seconds=lifetime)), "")
            self.db.execute(
                "INSERT INTO confirmations (id, email, name, language, requested_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (confirmation.id, email, name, language, confirmation.requested_at, confirmation.expires_at))
        return confirmation

    def confirmation(self, confirmation_id: str) -> Confirmation | None:
        row = self.db.execute("SELECT id, email, name, language, requested_at, expires_at, used_at FROM confirmations "
                              "WHERE id = ?", (confirmation_id,)).fetchone()
        return Confirmation(*row) if row else None

    def cancel_confirmation(self, confirmation_id: str) -> None:
        """Forget a confirmation whose email could not be sent, so the address may ask again."""
        self.db.execute("DELETE FROM confirmations WHERE id = ? AND used_at = ''", (confirmation_id,))

    def use_confirmation(self, confirmation_id: str, network: str) -> tuple[ConfirmOutcome, Confirmation | None]:
        """Subscribe the confirmation's address, once: the link is spent in the same
        transaction that changes the member."""
        with self.transaction():
            confirmation = self.confirmation(confirmation_id)
            if confirmation is None:
                return ConfirmOutcome.UNKNOWN, None
            refused = confirmation.state()
            if refused is not None:
                return refused, confirmation
            now = _stamp(_now())
            self.db.execute("UPDATE confirmations SET used_at = ? WHERE id = ?", (now, confirmation.id))
            consent = Consent("form", now, network)
            if self.member(confirmation.email) is None:  # removed meanwhile: the confirmation is consent enough
                self.insert_member(confirmation.email, Profile(confirmation.name, confirmation.language), PENDING)
            self.update_profile(confirmation.email, confirmation.name or None, confirmation.language or None)
            self.subscribe(confirmation.email, consent, reason="confirmed", source="web")
            self.db.execute("DELETE FROM soft_bounces WHERE email = ?", (confirmation.email,))
        return ConfirmOutcome.CONFIRMED, confirmation


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(when: datetime) -> str:
    """The ledger's timestamp format (ISO 8601 UTC, seconds), which sorts as text."""
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")
