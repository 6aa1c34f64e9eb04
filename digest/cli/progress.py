"""The send's progress on stderr: a rich progress bar (percentage, rate, time left) on a
terminal, and plain lines at least every ``PLAIN_EVERY`` seconds in a log, never a
carriage return. A wait before a retry is shown as its own line, so a send waiting on an
unreachable server is never silent.

rich is imported only when a send starts; updates may come from any worker thread.
"""
from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ..delivery.batches import RetryNotice
    from ..delivery.send import Progress

PLAIN_EVERY = 5.0  # seconds between plain progress lines (the promise is at most 10)


def progress_line(progress: Progress) -> str:
    """One plain line: done of total with percentage, outcomes, rate and time left."""
    total = max(progress.total, 1)
    rate = progress.rate
    left = f"{_duration(progress.remaining / rate)} left" if rate > 0 and progress.remaining else "time left unknown"
    if not progress.remaining:
        left = "done"
    return (f"{progress.done:,}/{progress.total:,} ({progress.done / total:.0%}): sent {progress.sent:,}, "
            f"failed {progress.failed:,}, deferred {progress.deferred:,}; {rate:,.1f} msg/s; {left}")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class PlainProgress:
    """For logs and pipes: a full line every ``every`` seconds from a timer thread (also
    while nothing moves), and a line for each retry wait."""

    def __init__(self, total: int, stream: TextIO | None = None, every: float = PLAIN_EVERY):
        self.stream = stream or sys.stderr
        self.every = every
        self.latest: Progress | None = None
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._tick, name="digest-progress", daemon=True)

    def __enter__(self) -> "PlainProgress":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        if self.latest is not None:
            self.say(progress_line(self.latest))

    def update(self, progress: Progress) -> None:
        self.latest = progress

    def retry(self, notice: RetryNotice) -> None:
        self.say(notice.describe())

    def say(self, text: str) -> None:
        with self.lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _tick(self) -> None:
        while not self.done.wait(self.every):
            if self.latest is not None:
                self.say(progress_line(self.latest))


class BarProgress:
    """For a terminal: rich's live bar, redrawn on resize, with retry waits printed above it."""

    def __init__(self, total: int, stream: TextIO | None = None):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeRemainingColumn)

        self.console = Console(file=stream or sys.stderr)
        self.bar = Progress(TextColumn("[bold]sending"), BarColumn(), TaskProgressColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn(),
                            TextColumn("{task.fields[outcomes]}"), console=self.console, transient=False)
        self.task = self.bar.add_task("send", total=total, rate="", outcomes="")

    def __enter__(self) -> "BarProgress":
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def update(self, progress: Progress) -> None:
        outcomes = f"failed {progress.failed:,} deferred {progress.deferred:,}" if progress.failed or progress.deferred else ""
        self.bar.update(self.task, completed=progress.done, rate=f"{progress.rate:,.1f} msg/s", outcomes=outcomes)

    def retry(self, notice: RetryNotice) -> None:
        self.say(notice.describe())

    def say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)


def send_progress(total: int, stream: TextIO | None = None) -> PlainProgress | BarProgress:
    """The bar on a terminal, plain lines elsewhere."""
    stream = stream or sys.stderr
    return BarProgress(total, stream) if stream.isatty() else PlainProgress(total, stream)
