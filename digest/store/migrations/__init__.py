"""Numbered schema migrations, applied when a ledger is opened; no command to run.

Each migration is one reviewed SQL file, ``NNNN_name.sql`` when both engines take the
same text, or ``NNNN_name.sqlite.sql`` and ``NNNN_name.postgresql.sql`` when they
differ. ``schema_version`` records what a ledger has; a ledger made before versions
existed has the tables of 0001 and no ``schema_version``, and 0001 adopts it as is.
All pending migrations run in one transaction under the engine's schema lock, so two
processes opening a new ledger at once migrate it once, and a failed step leaves the
ledger as it was.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import LedgerError
from ..engines.base import Engine

FOLDER = Path(__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_(\w+?)(?:\.(sqlite|postgresql))?\.sql$")

VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def migrations(dialect: str) -> list[Migration]:
    """This dialect's migrations in order; a dialect's own file wins over a shared one."""
    found: dict[int, Migration] = {}
    for path in sorted(FOLDER.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None or match.group(3) not in (None, dialect):
            continue
        version = int(match.group(1))
        if version not in found or match.group(3) == dialect:
            found[version] = Migration(version, match.group(2), path)
    return [found[version] for version in sorted(found)]


def latest(dialect: str) -> int:
    return migrations(dialect)[-1].version


def current_version(engine: Engine) -> int:
    if not engine.table_exists("schema_version"):
        return 0
    row = engine.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def applied_count(engine: Engine) -> int:
    return int(engine.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0])


def unversioned(engine: Engine) -> set[int]:
    """The migrations a ledger made before schema versions already has (none: a new one)."""
    if not engine.table_exists("deliveries"):
        return set()
    if engine.table_exists("members"):
        return {1, 2, 4}  # made by the members store's code: no shared sends yet (0003)
    return {1, 2} if engine.column_exists("deliveries", "language") else {1}


def migrate(engine: Engine) -> int:
    """Bring the ledger to the latest schema; returns the version it had before."""
    from ..database import utc_now

    target = latest(engine.dialect)
    before = current_version(engine)
    if before == target and applied_count(engine) == len(migrations(engine.dialect)):
        return before
    with engine.transaction():
        engine.lock_schema()
        adopt = not engine.table_exists("schema_version")
        engine.execute(VERSION_TABLE)
        if adopt:
            for migration in migrations(engine.dialect):
                if migration.version in unversioned(engine):
                    engine.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                                   (migration.version, migration.name, "adopted " + utc_now()))
        before = current_version(engine)
        if before > target:
            raise LedgerError(f"{engine.where}: made by a newer digest (schema {before}, this one knows {target}); "
                              "upgrade digest to use it")
        applied = {row[0] for row in engine.execute("SELECT version FROM schema_version")}
        for migration in migrations(engine.dialect):
            if migration.version not in applied:
                engine.script(migration.text())
                engine.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                               (migration.version, migration.name, utc_now()))
    return before
