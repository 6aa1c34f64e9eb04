"""Where the ledger lives: an SQLite file or a PostgreSQL database, named by a URL.

The ledger classes speak one dialect of SQL (``?`` placeholders, ``ON CONFLICT``,
``RETURNING``), which both engines understand once the engine translated the few
differences (placeholders, the claim lock, the clock, bulk loading). psycopg is
imported only when a ``postgresql://`` URL is opened, so nothing else pays for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from ...errors import ConfigError
from .base import Engine

if TYPE_CHECKING:
    from ...config import Settings

__all__ = ["Engine", "describe", "is_local_file", "ledger_exists", "ledger_target", "open_engine"]

POSTGRES_SCHEMES = ("postgresql", "postgres")


def ledger_target(settings: Settings) -> str | Path:
    """``[ledger] url`` (``DIGEST_LEDGER_URL``) when set, else the file at ``[ledger] path``.

    ``sqlite:///relative/path`` is resolved against the folder holding config.toml,
    like every other path setting; ``sqlite:////absolute/path`` is taken as it is.
    """
    table = settings.table("ledger")
    url = str(table.get("url") or "").strip()
    if not url:
        return settings.path("ledger")
    scheme = url.partition("://")[0].lower()
    if scheme == "sqlite":
        return sqlite_path(url, settings.root)
    if scheme in POSTGRES_SCHEMES:
        return url
    raise ConfigError(f"[ledger] url: {describe(url)} is neither sqlite:///path nor postgresql://...")


def sqlite_path(url: str, root: Path) -> Path:
    rest = url.partition("://")[2]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(f"[ledger] url: {url} needs a file: sqlite:///relative/path or sqlite:////absolute/path")
    path = Path(rest[1:])
    return path if path.is_absolute() else (root / path).resolve()


def is_local_file(target: str | Path) -> bool:
    return isinstance(target, Path) or "://" not in str(target)


def ledger_exists(target: str | Path) -> bool:
    """Whether there may be something to read: a file that exists, or any database
    (a server is asked only when the ledger is opened)."""
    return not is_local_file(target) or Path(target).is_file()


def describe(target: str | Path) -> str:
    """The target as it may be printed: a URL's password is never shown."""
    if is_local_file(target):
        return str(target)
    parts = urlsplit(str(target))
    if parts.password is None:
        return str(target)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_engine(target: str | Path, synchronous: str = "FULL") -> Engine:
    """A connection to the ledger at ``target`` (a path or a URL)."""
    if is_local_file(target):
        from .sqlite import SqliteEngine

        return SqliteEngine(Path(target), synchronous)
    scheme = str(target).partition("://")[0].lower()
    if scheme == "sqlite":
        from .sqlite import SqliteEngine

        return SqliteEngine(sqlite_path(str(target), Path.cwd()), synchronous)
    if scheme in POSTGRES_SCHEMES:
        from .postgres import PostgresEngine

        return PostgresEngine(str(target))
    raise ConfigError(f"ledger: {describe(target)} is neither a file, sqlite:///path nor postgresql://...")
