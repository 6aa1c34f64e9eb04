"""The members file: a CSV with an ``email`` column, read as a stream.

Members are read one row at a time so a million-row file costs no more memory than a
short one. A row that cannot be mailed (bad address, duplicate, a control character or
bytes that are not UTF-8, an over-long field) is yielded as ``SkippedMember`` with the
line it starts on, so the caller reports it and goes on: no row can stop a send. Only a
file that cannot be opened or has no ``email`` column stops everything, before any send.

The bytes read are hashed as they stream by (``MembersFile.sha256``), so the hash names
exactly the content the audience was taken from.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from ..addresses import clean_display_name, control_character, normalise_address
from ..errors import ContentError, HeaderError

RESERVED_COLUMNS = ("email", "name", "language", "tags")
MAX_FIELD_CHARS = 2000
MAX_ADDRESS_CHARS = 254
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


class _HashingReader(io.RawIOBase):
    """Passes a binary file through, hashing every byte read."""

    def __init__(self, raw: io.BufferedReader, digest: "hashlib._Hash"):
        self.raw, self.digest = raw, digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        count = self.raw.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count or 0


class MembersFile:
    """One reading of a members file; after ``rows()`` is exhausted, ``sha256`` is the
    hash of the bytes read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._digest = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def rows(self) -> Iterator[Member | SkippedMember]:
        try:
            raw = self.path.open("rb")
        except FileNotFoundError:
            raise ContentError("members file not found", self.path) from None
        except OSError as exc:
            raise ContentError(f"cannot read members file ({exc.strerror})", self.path) from None
        # surrogateescape: a byte that is not UTF-8 marks its own row, not the whole file
        text = io.TextIOWrapper(io.BufferedReader(_HashingReader(raw, self._digest)), encoding="utf-8-sig",
                                errors="surrogateescape", newline="")
        with text:
            reader = csv.reader(text)
            try:
                header = next(reader, [])
            except csv.Error as exc:
                raise ContentError(f"members file is not valid CSV: {exc}", self.path, 1) from None
            columns = [c.strip().lower() for c in header]
            if any(_undecodable(c) for c in columns):
                raise ContentError("members file is not valid UTF-8", self.path, 1)
            if "email" not in columns:
                raise ContentError("members file has no 'email' column", self.path, 1)
            yield from self._records(reader, columns)

    def _records(self, reader, columns: list[str]) -> Iterator[Member | SkippedMember]:
        end = reader.line_num
        while True:
            start = end + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                end = reader.line_num
                yield SkippedMember(start, "", f"not valid CSV: {exc}")
                continue
            end = reader.line_num
            if not any(v.strip() for v in values):
                continue  # a blank line
            yield member_from_row(dict(zip(columns, values)), start)


def iter_members(path: str | Path) -> Iterator[Member | SkippedMember]:
    """Members in file order; rows that cannot be mailed come back as SkippedMember."""
    return MembersFile(path).rows()


def member_from_row(row: dict[str, str], line: int) -> Member | SkippedMember:
    """A Member from one row of column -> value, or the reason it cannot be mailed."""
    fields = {key: (value or "").strip() for key, value in row.items() if key}
    raw_email = fields.get("email", "")
    problem = _field_problem(fields)
    if problem:
        return SkippedMember(line, _printable(raw_email), problem)
    try:
        email = normalise_address(raw_email)
        name = clean_display_name(fields.get("name", ""))
    except HeaderError as exc:
        return SkippedMember(line, _printable(raw_email), str(exc))
    tags = tuple(t.strip() for t in fields.get("tags", "").split(",") if t.strip())
    fields["email"], fields["name"] = email, name
    return Member(email=email, name=name, language=fields.get("language", ""), tags=tags, fields=fields, line=line)


# What makes a field unusable: a control character other than tab (the name's white
# space is cleaned separately), or a byte that was not UTF-8 (read as a lone surrogate).
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")


def _field_problem(fields: dict[str, str]) -> str | None:
    """Why a row cannot be mailed as it is, or None. One regex over the row first (the
    common case is a clean row); the field at fault is looked for only on a hit."""
    for key, value in fields.items():
        if len(value) > (MAX_ADDRESS_CHARS if key == "email" else MAX_FIELD_CHARS):
            return f"column {key!r} is longer than {MAX_ADDRESS_CHARS if key == 'email' else MAX_FIELD_CHARS:,} characters"
    if _BAD_CHARACTER.search("".join(fields.values())) is None:
        return None
    for key, value in fields.items():
        if _undecodable(value):
            return f"column {key!r} is not valid UTF-8"
        if key != "name":  # names are cleaned (white space) or refused by clean_display_name
            found = control_character(value.replace("\t", " "))
            if found:
                return f"column {key!r} contains the control character {found}"
    return None


def _undecodable(value: str) -> bool:
    return not value.isascii() and any("\udc80" <= ch <= "\udcff" for ch in value)


def _printable(value: str) -> str:
    """An address as it may be shown in a report: controls and bad bytes escaped."""
    return value if value.isprintable() else ascii(value)[1:-1]


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
