"""The members file: a CSV with an ``email`` column, read as a stream.

Members are read one row at a time so a million-row file costs no more memory than a
short one. Rows that cannot be mailed (bad address, duplicate) are yielded as
``SkippedMember`` with their line number, so the caller reports them and goes on; a file
that cannot be read or has no ``email`` column stops everything before any send.
"""
from __future__ import annotations

import csv
import hashlib
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from ..addresses import normalise_address
from ..errors import ContentError, HeaderError

RESERVED_COLUMNS = ("email", "name", "language", "tags")
T = TypeVar("T")


@dataclass(frozen=True)
class Member:
    """One member to mail. ``fields`` holds every column, for ``member.<column>`` in templates."""

    email: str
    name: str = ""
    language: str = ""
    tags: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict, compare=False)
    line: int = 0


@dataclass(frozen=True)
class SkippedMember:
    """A row that will not be mailed, and why."""

    line: int
    email: str
    reason: str


def iter_members(path: str | Path) -> Iterator[Member | SkippedMember]:
    """Members in file order; invalid addresses come back as SkippedMember."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ContentError("members file not found", path) from None
    except OSError as exc:
        raise ContentError(f"cannot read members file ({exc.strerror})", path) from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            columns = [c.strip().lower() for c in (reader.fieldnames or [])]
        except UnicodeDecodeError:
            raise ContentError("members file is not valid UTF-8", path, 1) from None
        except csv.Error as exc:
            raise ContentError(f"members file is not valid CSV: {exc}", path, 1) from None
        if "email" not in columns:
            raise ContentError("members file has no 'email' column", path, 1)
        reader.fieldnames = columns
        try:
            for row in reader:
                yield _member_from_row(row, reader.line_num)
        except UnicodeDecodeError:
            raise ContentError("members file is not valid UTF-8", path, reader.line_num + 1) from None
        except csv.Error as exc:
            raise ContentError(f"members file is not valid CSV: {exc}", path, reader.line_num) from None


def _member_from_row(row: dict[str, str | None], line: int) -> Member | SkippedMember:
    fields = {key: (value or "").strip() for key, value in row.items() if key}
    raw_email = fields.get("email", "")
    try:
        email = normalise_address(raw_email)
    except HeaderError as exc:
        return SkippedMember(line, raw_email, str(exc))
    if "\n" in fields.get("name", "") or "\r" in fields.get("name", ""):
        return SkippedMember(line, raw_email, "name contains a line break")
    tags = tuple(t.strip() for t in fields.get("tags", "").split(",") if t.strip())
    fields["email"] = email
    return Member(email=email, name=fields.get("name", ""), language=fields.get("language", ""), tags=tags, fields=fields, line=line)


def without_duplicates(rows: Iterable[Member | SkippedMember], block: int = 500) -> Iterator[Member | SkippedMember]:
    """Drop repeated addresses (case-insensitive), keeping the first. Seen addresses go,
    as 64-bit digests, into a private temporary SQLite table that spills to disk, so
    memory stays flat however long the file; rows are looked up a block at a time."""
    seen = sqlite3.connect("", isolation_level=None)  # "" = temporary database, deleted on close
    try:
        seen.execute("PRAGMA journal_mode=OFF")
        seen.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY, line INTEGER NOT NULL) WITHOUT ROWID")
        for rows_block in chunks(rows, block):
            keys = {id(row): _digest(row.email) for row in rows_block if isinstance(row, Member)}
            wanted = list(set(keys.values()))
            first_lines = dict(seen.execute(f"SELECT key, line FROM seen WHERE key IN ({','.join('?' * len(wanted))})", wanted))
            new: list[tuple[int, int]] = []
            for row in rows_block:
                if isinstance(row, Member):
                    key = keys[id(row)]
                    if key in first_lines:
                        yield SkippedMember(row.line, row.email, f"duplicate of line {first_lines[key]}")
                        continue
                    first_lines[key] = row.line
                    new.append((key, row.line))
                yield row
            seen.execute("BEGIN")
            seen.executemany("INSERT INTO seen VALUES (?, ?)", new)
            seen.execute("COMMIT")
    finally:
        seen.close()


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    block: list[T] = []
    for item in items:
        block.append(item)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def _digest(email: str) -> int:
    return int.from_bytes(hashlib.blake2b(email.lower().encode(), digest_size=8).digest(), "big", signed=True)


def find_member(path: str | Path, email: str) -> Member:
    """The member with this address (case-insensitive), for previews and test sends."""
    wanted = email.strip().lower()
    for row in iter_members(path):
        if isinstance(row, Member) and row.email.lower() == wanted:
            return row
    raise ContentError(f"no member with address {email!r}", Path(path))
