"""A trail of sends kept outside the project folder, so a lost or moved ledger is noticed.

``git clean -fdx`` deletes ``.digest/`` and with it the ledger, and a changed
``[ledger] path`` points at an empty one; either way the next ``digest send`` would mail
everyone again. So every send also notes, under ``$XDG_STATE_HOME/digest/sends/``
(``~/.local/state`` by default), one small JSON file per project folder and issue: which
ledger recorded it, when, through which backend, for how many members. No address or
secret is written there.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .database import utc_now


@dataclass(frozen=True)
class TrailEntry:
    ledger: str
    backend: str
    members: int
    at: str


def trail_folder() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "digest" / "sends"


def _trail_file(project: Path, issue_slug: str) -> Path:
    key = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:16]
    return trail_folder() / key / f"{issue_slug}.json"


def note_send(project: Path, issue_slug: str, ledger: Path, backend: str, members: int) -> None:
    """Remember that ``ledger`` holds this issue's send (best effort: a trail that cannot
    be written never stops a send)."""
    target = _trail_file(project, issue_slug)
    entry = TrailEntry(str(ledger.resolve()), backend, members, utc_now())
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(entry), out)
        os.replace(temporary, target)
    except OSError:
        pass


def earlier_send(project: Path, issue_slug: str) -> TrailEntry | None:
    try:
        data = json.loads(_trail_file(project, issue_slug).read_text(encoding="utf-8"))
        return TrailEntry(str(data["ledger"]), str(data["backend"]), int(data["members"]), str(data["at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
