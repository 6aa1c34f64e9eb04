"""Writing issue files all at once or not at all: a synced temporary file beside the
target, then ``os.replace`` (or a hard link, to never overwrite), so a crash or a full
disk leaves the old file or the new one, never half of either."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import ContentError


def _write_temporary(path: Path, text: str, mode: int) -> str:
    """Write ``text`` to a synced temporary file beside ``path``; return its name."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and ``os.replace``: all or nothing."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    temporary = _write_temporary(path, text, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def create_exclusive(path: Path, text: str) -> None:
    """Write a new file completely, or not at all; never replace an existing one."""
    temporary = _write_temporary(path, text, 0o644)
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise ContentError("already exists; not overwriting it", path) from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def read_exact(path: Path) -> str:
    """The text exactly as stored (line endings untranslated, so an edit keeps them)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            return file.read()
    except FileNotFoundError:
        raise ContentError("file not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"cannot read ({getattr(exc, 'strerror', None) or exc})", path) from None
