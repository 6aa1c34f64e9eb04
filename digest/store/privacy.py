"""What the store holds about one person, and forgetting it.

``member_data`` gathers everything kept about an address (profile, status, consent,
confirmations, the sends' audiences, sends and their outcomes) for a subject-access request. ``forget``
erases it all but a salted hash, so the address is never mailed or imported again: the
hash is HMAC-SHA256 of the lower-cased address under a random salt kept in this
database, so the list of hashes alone does not reveal who asked to be forgotten.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any, Sequence

from .database import marks, utc_now
from .members import MemberStore


FORGOTTEN_PREFIX = "forgotten:"


class MemberPrivacy(MemberStore):
    """Subject access and erasure over the members, confirmations and deliveries tables."""

    _salt: bytes | None = None

    def address_hash(self, email: str) -> str:
        if self._salt is None:
            self.db.execute("INSERT INTO store_meta (key, value) VALUES ('forget_salt', ?) ON CONFLICT (key) DO NOTHING",
                            (secrets.token_hex(32),))
            (value,) = self.db.execute("SELECT value FROM store_meta WHERE key = 'forget_salt'").fetchone()
            self._salt = bytes.fromhex(value)
        return hmac.new(self._salt, email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()

    def forgotten_among(self, emails: Sequence[str]) -> set[str]:
        """The lower-cased addresses of ``emails`` that asked to be forgotten."""
        if not emails or self.db.execute("SELECT 1 FROM forgotten LIMIT 1").fetchone() is None:
            return set()
        by_hash = {self.address_hash(email): email.lower() for email in emails}
        rows = self.db.execute(f"SELECT hash FROM forgotten WHERE hash IN ({marks(list(by_hash))})", list(by_hash))
        return {by_hash[digest] for (digest,) in rows}

    def is_forgotten(self, email: str) -> bool:
        return bool(self.forgotten_among([email]))

    def forget(self, email: str) -> bool:
        """Erase every trace of ``email`` but its salted hash; True if anything was held."""
        email = email.strip().lower()
        digest = self.address_hash(email)
        with self.transaction():
            held = self._held(email)
            self.db.execute("INSERT INTO forgotten (hash, forgotten_at) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
                            (digest, utc_now()))
            for table in ("members", "confirmations", "soft_bounces"):
                self.db.execute(f"DELETE FROM {table} WHERE email = ?", (email,))
            # A send's counts stay right, but the row no longer says who it was (nor the
            # provider's reply, which often quotes the address).
            marker = FORGOTTEN_PREFIX + digest
            self.db.execute("UPDATE deliveries SET email = ?, error = '' WHERE email = ?", (marker, email))
            # A send's audience snapshot keeps its order and size; the row says nothing more
            # (and is never mailed: suppressed_among treats the marker as suppressed).
            self.db.execute("UPDATE audience_members SET email = ?, name = '', fields = '{}' WHERE LOWER(email) = ?",
                            (marker, email))
            self.db.execute("UPDATE audience_skipped SET email = ?, reason = '' WHERE LOWER(email) = ?", (marker, email))
        return held

    def member_data(self, email: str) -> dict[str, Any] | None:
        """Everything held about ``email`` as JSON-ready data; None if nothing is."""
        email = email.strip().lower()
        if self.is_forgotten(email):
            (at,) = self.db.execute("SELECT forgotten_at FROM forgotten WHERE hash = ?", (self.address_hash(email),)).fetchone()
            return {"email": email, "forgotten_at": at, "held": "only a salted hash, so the address is never mailed again"}
        if not self._held(email):
            return None
        member = self.member(email)
        data: dict[str, Any] = {"email": email}
        if member is not None:
            data["profile"] = {"address": member.address, "name": member.name, "language": member.language,
                               "fields": dict(member.fields)}
            data["status"] = {"status": member.status, "reason": member.status_reason, "source": member.status_source,
                              "since": member.status_at}
            data["consent"] = {"method": member.consent.method, "at": member.consent.at, "network": member.consent.network}
            data["created_at"], data["updated_at"] = member.created_at, member.updated_at
        data["confirmations"] = [
            {"requested_at": r, "expires_at": e, "used_at": u or None, "name": n, "language": lang}
            for r, e, u, n, lang in self.db.execute(
                "SELECT requested_at, expires_at, used_at, name, language FROM confirmations WHERE email = ? ORDER BY requested_at",
                (email,))]
        data["sends"] = [
            {"issue": issue, "state": state, "message_id": message_id, "provider_id": provider_id, "attempts": attempts,
             "error": error, "updated_at": updated_at}
            for issue, state, message_id, provider_id, attempts, error, updated_at in self.db.execute(
                "SELECT s.issue, d.state, d.message_id, d.provider_id, d.attempts, d.error, d.updated_at "
                "FROM deliveries d JOIN sends s ON s.id = d.send_id WHERE d.email = ? ORDER BY d.updated_at, s.issue",
                (email,))]
        data["audiences"] = [
            {"issue": issue, "address": address, "name": name, "language": language, "fields": json.loads(fields)}
            for issue, address, name, language, fields in self.db.execute(
                "SELECT s.issue, a.email, a.name, a.language, a.fields FROM audience_members a "
                "JOIN sends s ON s.id = a.send_id WHERE LOWER(a.email) = ? ORDER BY s.issue", (email,))]
        row = self.db.execute("SELECT in_a_row, updated_at FROM soft_bounces WHERE email = ?", (email,)).fetchone()
        data["soft_bounces"] = {"in_a_row": row[0], "last": row[1]} if row else None
        return data

    def _held(self, email: str) -> bool:
        return any(self.db.execute(f"SELECT 1 FROM {table} WHERE email = ? LIMIT 1", (email,)).fetchone()
                   for table in ("members", "confirmations", "soft_bounces", "deliveries")) or \
            self.db.execute("SELECT 1 FROM audience_members WHERE LOWER(email) = ? LIMIT 1", (email,)).fetchone() is not None
