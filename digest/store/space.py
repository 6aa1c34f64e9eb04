"""Room to record: a batch is handed to a backend only if its answers can be written.

A message the provider accepted but the ledger could not record is sent again on
resume, so running out of disk mid-send would mean duplicates. Before each batch the
send loop asks for room on the ledger's disk (and under the process's file-size limit,
``ulimit -f``) for the batch's intents and outcomes with a margin; without it the run
stops with a one-line error before sending, and resumes cleanly once there is space.
"""
from __future__ import annotations

import resource
import shutil
from pathlib import Path

from ..errors import LedgerError

MARGIN = 2 * 1024 * 1024     # bytes kept free beyond what a batch needs (journal, checkpoints)
PER_MESSAGE = 16 * 1024      # write-ahead-log pages an intent and an outcome commit can take


def room_for(path: Path) -> int:
    """Bytes the ledger may still grow by: free disk space, or the file-size limit."""
    try:
        room = shutil.disk_usage(path.parent).free
    except OSError:
        return 0
    limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if limit != resource.RLIM_INFINITY:
        sizes = [p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        room = min(room, limit - max(sizes, default=0))
    return room


def ensure_room(path: Path, messages: int) -> None:
    """LedgerError unless the ledger has room to record ``messages`` answers."""
    need = MARGIN + messages * PER_MESSAGE
    room = room_for(path)
    if room < need:
        raise LedgerError(f"only {max(room, 0) // 1024:,} KB left for the ledger, and recording the next "
                          f"{messages:,} message(s) needs {need // 1024:,} KB: nothing more was sent; free some "
                          f"space, then run `digest send` again to resume", path)
