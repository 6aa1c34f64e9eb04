"""The suppression list in and out of CSV, so it can move to and from a mail provider.

Providers export unsubscribes and bounces with the address under different column
names (``email``, ``Email``, ``address``, ``recipient``...), so the column is found by
name, case-insensitively. Rows without a usable address are skipped and reported with
their line number; the rest are added in one transaction.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, TextIO

from ..addresses import normalise_address
from ..errors import ContentError, HeaderError
from ..store.ledger import SendLedger, Suppression

EMAIL_COLUMNS = ("email", "e-mail", "email address", "email_address", "emailaddress", "address", "recipient", "recipient_email", "to")
KNOWN_REASONS = ("unsubscribe", "bounce", "complaint", "manual", "import")
EXPORT_COLUMNS = ("email", "reason", "source", "created_at")


@dataclass
class SuppressionImport:
    added: int = 0
    already: int = 0
    skipped: list[str] = field(default_factory=list)  # "file:line: why"


def add_addresses(addresses: Iterable[str], ledger: SendLedger, reason: str = "manual", source: str = "cli") -> list[tuple[str, bool]]:
    """Validate every address first (one bad one adds nothing), then suppress each;
    returns (address, newly added) pairs."""
    try:
        checked = [normalise_address(address).lower() for address in addresses]
    except HeaderError as exc:
        raise ContentError(str(exc)) from None
    with ledger.transaction():
        return [(address, ledger.suppress(address, reason, source)) for address in checked]


def import_csv(path: Path, ledger: SendLedger) -> SuppressionImport:
    """Add every address in a provider's CSV export; a ``reason`` column is kept when it
    holds one of our reasons (as in our own export), else the reason is ``import``."""
    result = SuppressionImport()
    rows = list(_read_rows(path, result))
    with ledger.transaction():
        for email, reason in rows:
            if ledger.suppress(email, reason, f"import: {path.name}"):
                result.added += 1
            else:
                result.already += 1
    return result


def export_csv(suppressions: Iterable[Suppression], handle: TextIO) -> int:
    """Write email,reason,source,created_at rows; returns the number written."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in suppressions:
        writer.writerow((row.email, row.reason, row.source, row.created_at))
        count += 1
    return count


def _read_rows(path: Path, result: SuppressionImport) -> Iterable[tuple[str, str]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ContentError("file not found", path) from None
    except OSError as exc:
        raise ContentError(f"cannot read ({exc.strerror})", path) from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip().lower() for name in next(reader, [])]
            email_at = _email_column(header, path)
            reason_at = header.index("reason") if "reason" in header else None
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                raw = row[email_at].strip() if email_at < len(row) else ""
                try:
                    email = normalise_address(raw).lower()
                except HeaderError as exc:
                    result.skipped.append(f"{path}:{reader.line_num}: {exc}")
                    continue
                reason = row[reason_at].strip().lower() if reason_at is not None and reason_at < len(row) else ""
                yield email, reason if reason in KNOWN_REASONS else "import"
        except UnicodeDecodeError:
            raise ContentError("not UTF-8 text", path, reader.line_num + 1) from None
        except csv.Error as exc:
            raise ContentError(f"not valid CSV: {exc}", path, reader.line_num) from None


def _email_column(header: list[str], path: Path) -> int:
    for name in EMAIL_COLUMNS:
        if name in header:
            return header.index(name)
    raise ContentError(f"no email column (looked for: {', '.join(EMAIL_COLUMNS)})", path, 1)
