"""The members store: who is on the list, in which language, and on what consent.

Members live in the ledger's database, next to the send runs, so a send, the web pages
and the CLI read and write one truth. Each address has exactly one row (keyed by the
lower-cased address) whose ``status`` says whether it may be mailed: only ``subscribed``
members get issues; ``unsubscribed``, ``bounced`` and ``complained`` are the suppression
list (``suppressions.py`` reads and writes them); ``pending`` waits for a confirmation.
The consent record keeps how and when someone joined and, for the web form, only the
confirming client's network (/24 or /48), never the full IP address.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from ..members.file import Member
from .database import LedgerDatabase, utc_now

PENDING, SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED = "pending", "subscribed", "unsubscribed", "bounced", "complained"
STATUSES = (PENDING, SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED)
SUPPRESSED_STATUSES = (UNSUBSCRIBED, BOUNCED, COMPLAINED)
CONSENT_METHODS = ("form", "import", "cli")
# Columns of a members file that are the member's own, not custom fields.
PROFILE_COLUMNS = ("email", "name", "language")

# Portable SQL (SQLite and PostgreSQL agree on all of it): text timestamps in ISO 8601 UTC.

_COLUMNS = ("email, address, name, language, fields, status, status_reason, status_source, status_at, "
            "consent_method, consent_at, consent_ip, created_at, updated_at")


@dataclass(frozen=True)
class Consent:
    """How someone agreed to be mailed: ``method`` form/import/cli, when, and from which network."""

    method: str = ""
    at: str = ""
    network: str = ""


@dataclass(frozen=True)
class StoredMember:
    """One row of the members store."""

    email: str
    address: str
    name: str
    language: str
    fields: Mapping[str, str]
    status: str
    status_reason: str
    status_source: str
    status_at: str
    consent: Consent
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: tuple) -> "StoredMember":
        (email, address, name, language, fields, status, reason, source, status_at,
         method, consent_at, consent_ip, created_at, updated_at) = row
        return cls(email, address, name, language, json.loads(fields), status, reason, source, status_at,
                   Consent(method, consent_at, consent_ip), created_at, updated_at)

    def as_member(self) -> Member:
        """The ``Member`` a send personalises for (every field, for ``member.<column>``)."""
        values = {**self.fields, "email": self.address, "name": self.name, "language": self.language}
        tags = tuple(t.strip() for t in self.fields.get("tags", "").split(",") if t.strip())
        return Member(email=self.address, name=self.name, language=self.language, tags=tags, fields=values)

    @property
    def suppressed(self) -> bool:
        return self.status in SUPPRESSED_STATUSES


@dataclass(frozen=True)
class Profile:
    """What a member says about themselves: name, language and custom fields."""

    name: str = ""
    language: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, member: Member) -> "Profile":
        custom = {k: v for k, v in member.fields.items() if k not in PROFILE_COLUMNS}
        return cls(member.name, member.language, custom)


def consent_network(ip: str) -> str:
    """The client's /24 (IPv4) or /48 (IPv6) network: enough to show where consent came
    from, too coarse to single out a person. '' for anything that is not an IP address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class MemberStore(LedgerDatabase):
    """The members table on the ledger's connection."""

    def member(self, email: str) -> StoredMember | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM members WHERE email = ?", (email.strip().lower(),)).fetchone()
        return StoredMember.from_row(row) if row else None

    def members(self, status: str | None = None, block: int = 500) -> Iterator[StoredMember]:
        """Every member (or those with ``status``), by address, read a block at a time."""
        after = ""
        while True:
            where, params = ("email > ?", [after]) if status is None else ("status = ? AND email > ?", [status, after])
            rows = self.db.execute(f"SELECT {_COLUMNS} FROM members WHERE {where} ORDER BY email LIMIT ?", (*params, block)).fetchall()
            for row in rows:
                yield StoredMember.from_row(row)
            if len(rows) < block:
                return
            after = rows[-1][0]

    def iter_subscribed(self, block: int = 500) -> Iterator[Member]:
        """The members a send goes to, as the ``Member`` rows a members file yields."""
        for stored in self.members(SUBSCRIBED, block):
            yield stored.as_member()

    def status_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) FROM members GROUP BY status").fetchall()
        return {status: 0 for status in STATUSES} | dict(rows)

    def insert_member(self, address: str, profile: Profile, status: str, consent: Consent = Consent(),
                      reason: str = "", source: str = "") -> None:
        """A new row; the caller has checked the address is not there (and not forgotten)."""
        now = utc_now()
        self.db.execute(
            f"INSERT INTO members ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (address.lower(), address, profile.name, profile.language, _json(profile.fields), status, reason, source, now,
             consent.method, consent.at, consent.network, now, now),
        )

    def update_profile(self, email: str, name: str | None = None, language: str | None = None,
                       fields: Mapping[str, str] | None = None) -> None:
        """Change what is given (None leaves a value as it is)."""
        self.db.execute(
            "UPDATE members SET name = COALESCE(?, name), language = COALESCE(?, language), "
            "fields = COALESCE(?, fields), updated_at = ? WHERE email = ?",
            (name, language, _json(fields) if fields is not None else None, utc_now(), email.strip().lower()),
        )

    def set_status(self, email: str, status: str, reason: str, source: str) -> None:
        now = utc_now()
        self.db.execute(
            "UPDATE members SET status = ?, status_reason = ?, status_source = ?, status_at = ?, updated_at = ? WHERE email = ?",
            (status, reason, source, now, now, email.strip().lower()),
        )

    def subscribe(self, email: str, consent: Consent, reason: str, source: str) -> None:
        """Make a known member ``subscribed`` with this consent record."""
        now = utc_now()
        self.db.execute(
            "UPDATE members SET status = 'subscribed', status_reason = ?, status_source = ?, status_at = ?, "
            "consent_method = ?, consent_at = ?, consent_ip = ?, updated_at = ? WHERE email = ?",
            (reason, source, now, consent.method, consent.at or now, consent.network, now, email.strip().lower()),
        )


def _json(fields: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(fields.items())), ensure_ascii=False)
