"""The members store in and out of CSV: ``digest members import`` and ``export``.

An import is an idempotent upsert: run it twice and the second run adds and changes
nothing. It never resubscribes anyone the store knows as unsubscribed, bounced or
complained, nor an address that was forgotten, and it fills only the columns the file
has (an empty cell or a missing column leaves what the member chose on the web). Every
row gets a verdict with its line number; the whole file is one transaction.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from ..addresses import normalise_address
from ..errors import ContentError, HeaderError
from ..store.ledger import SendLedger, StoredMember
from ..store.members import PENDING, PROFILE_COLUMNS, SUBSCRIBED, SUPPRESSED_STATUSES, Consent, Profile
from ..store.database import utc_now
from .file import Member, SkippedMember, iter_members, without_duplicates

ADDED, UPDATED, SKIPPED = "added", "updated", "skipped"
EXPORT_COLUMNS = ("email", "name", "language", "status", "status_reason", "consent_method", "consent_at", "consent_ip",
                  "created_at", "updated_at")
# Columns our own export writes that are not the member's custom fields.
STORE_COLUMNS = frozenset(EXPORT_COLUMNS) | {"status_source", "status_at"}


@dataclass(frozen=True)
class Verdict:
    line: int
    action: str   # added | updated | skipped
    email: str
    detail: str = ""


@dataclass
class ImportReport:
    verdicts: list[Verdict] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(v.action == action for v in self.verdicts)

    def summary(self) -> str:
        return f"{self.count(ADDED)} added, {self.count(UPDATED)} updated, {self.count(SKIPPED)} skipped"


def import_members(path: Path, ledger: SendLedger) -> ImportReport:
    """Upsert every row of a members CSV as a ``subscribed`` member with consent ``import``."""
    report = ImportReport()
    source = f"import: {path.name}"
    with ledger.transaction():
        for row in without_duplicates(iter_members(path)):
            if isinstance(row, SkippedMember):
                report.verdicts.append(Verdict(row.line, SKIPPED, row.email, row.reason))
            else:
                report.verdicts.append(_upsert(row, ledger, source))
    return report


def _upsert(row: Member, ledger: SendLedger, source: str) -> Verdict:
    asked = row.fields.get("status", "").strip().lower()
    if asked == PENDING:
        return Verdict(row.line, SKIPPED, row.email, "status pending in the file: not confirmed, not imported")
    if ledger.is_forgotten(row.email):
        return Verdict(row.line, SKIPPED, row.email, "asked to be forgotten: never imported again")
    profile = _profile(row)
    stored = ledger.member(row.email)
    if stored is None:
        status = asked if asked in SUPPRESSED_STATUSES else SUBSCRIBED
        ledger.insert_member(row.email, profile, status, Consent("import", utc_now()) if status == SUBSCRIBED else Consent(),
                             reason="import", source=source)
        return Verdict(row.line, ADDED, row.email, "" if status == SUBSCRIBED else status)
    if stored.suppressed:
        return Verdict(row.line, SKIPPED, row.email, f"{stored.status} since {stored.status_at}: an import never resubscribes")
    if asked in SUPPRESSED_STATUSES:
        ledger.set_status(row.email, asked, "import", source)
        return Verdict(row.line, UPDATED, row.email, asked)
    changes = _changes(stored, profile)
    if not changes and stored.status == SUBSCRIBED:
        return Verdict(row.line, SKIPPED, row.email, "unchanged")
    if changes:
        ledger.update_profile(row.email, **changes)
    if stored.status != SUBSCRIBED:
        ledger.subscribe(row.email, Consent("import", utc_now()), reason="import", source=source)
    return Verdict(row.line, UPDATED, row.email, ", ".join(sorted(changes)) or "subscribed")


def _profile(row: Member) -> Profile:
    custom = {k: v for k, v in row.fields.items() if k not in PROFILE_COLUMNS and k not in STORE_COLUMNS and v}
    return Profile(row.name, row.language, custom)


def _changes(stored: StoredMember, profile: Profile) -> dict[str, object]:
    """What the file says differently, by non-empty value only."""
    changes: dict[str, object] = {}
    if profile.name and profile.name != stored.name:
        changes["name"] = profile.name
    if profile.language and profile.language != stored.language:
        changes["language"] = profile.language
    merged = {**stored.fields, **profile.fields}
    if merged != dict(stored.fields):
        changes["fields"] = merged
    return changes


def export_members(members: Iterable[StoredMember], handle: TextIO, custom_columns: Iterable[str]) -> int:
    """Write every member as CSV (our columns, then the custom fields); returns the count."""
    custom = sorted(set(custom_columns) - STORE_COLUMNS)
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow((*EXPORT_COLUMNS, *custom))
    count = 0
    for m in members:
        writer.writerow((m.address, m.name, m.language, m.status, m.status_reason, m.consent.method, m.consent.at,
                         m.consent.network, m.created_at, m.updated_at, *(m.fields.get(c, "") for c in custom)))
        count += 1
    return count


def add_member(ledger: SendLedger, address: str, name: str = "", language: str = "") -> str:
    """Subscribe one address from the command line (consent ``cli``); returns what
    happened. Refuses, like an import, to resubscribe a suppressed or forgotten address."""
    address = _checked(address)
    email = address.lower()
    if "\n" in name or "\r" in name or "\x00" in name:
        raise ContentError(f"name for {email} must be one line")
    with ledger.transaction():
        if ledger.is_forgotten(email):
            raise ContentError(f"{email} asked to be forgotten: it is never added again")
        stored = ledger.member(email)
        if stored is None:
            ledger.insert_member(address, Profile(name, language), SUBSCRIBED, Consent("cli", utc_now()),
                                 reason="manual", source="cli")
            return f"{email}: added"
        if stored.suppressed:
            raise ContentError(f"{email} is {stored.status} (since {stored.status_at}): members add never resubscribes; "
                               "they can resubscribe from the preferences page")
        ledger.update_profile(email, name or None, language or None)
        if stored.status != SUBSCRIBED:
            ledger.subscribe(email, Consent("cli", utc_now()), reason="manual", source="cli")
            return f"{email}: subscribed"
        return f"{email}: already subscribed" + (" (updated)" if name or language else "")


def remove_member(ledger: SendLedger, address: str) -> str:
    """Stop mailing an address: it becomes ``unsubscribed`` (reason manual) and stays on
    the suppression list; ``forget`` is the command that erases it."""
    email = _checked(address).lower()
    if ledger.suppress(email, "manual", "cli"):
        return f"{email}: unsubscribed"
    stored = ledger.member(email)
    return f"{email}: already not mailed ({stored.status if stored else 'forgotten'})"


def checked_address(address: str) -> str:
    """The lower-cased normalised address, or a one-line ContentError."""
    return _checked(address).lower()


def _checked(address: str) -> str:
    try:
        return normalise_address(address)
    except HeaderError as exc:
        raise ContentError(str(exc)) from None
