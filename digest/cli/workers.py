"""``digest send --workers N`` and ``--join``: a send shared by worker processes on one
or several machines, and the workers part of ``digest status``.

The run that starts it (holding the issue's lease, its audience snapshotted as for
every send) cuts the audience into batches; this process then works as one worker and
starts N-1 more (``digest send ISSUE --join``), which claim batches under leases.
``--join`` on another machine adds workers to a send in progress. The machinery is
imported when a command runs, not when the CLI loads."""
from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings
from ..errors import DeliveryError, DigestError

if TYPE_CHECKING:
    from ..delivery.backends import Backend
    from ..delivery.batches import SendOptions
    from ..render.issue import RenderedIssue
    from ..render.mime import MessageFactories
    from ..store.ledger import SendLedger, SendRun


def run_shared_send(ctx: click.Context, settings: Settings, factory: MessageFactories, issue_dir: Path,
                    ledger: SendLedger, run: SendRun, backend: Backend, options: SendOptions, workers: int,
                    quiet: bool) -> None:
    """The send of ``run`` (its audience snapshotted, its lease held) shared by ``workers``
    processes here: batches cut on the first run, then work until none is left."""
    from ..delivery.workers import prepare_shared_send

    prepare_shared_send(ledger, run, options, options.batch_size_for(backend))
    click.echo(f"Shared send: {workers} worker(s) here; add more elsewhere with `digest send {issue_dir} --join`")
    _work(ctx, settings, factory, issue_dir, ledger, run, options, workers, quiet)


def join_shared_send(ctx: click.Context, settings: Settings, issue: Any, editions: dict[str, RenderedIssue],
                     issue_dir: Path, options: SendOptions, secret: str, workers: int, quiet: bool) -> None:
    """Add ``workers`` processes here to the issue's shared send in progress."""
    from ..render.mime import MessageFactories
    from ..store.engines import ledger_target
    from ..store.ledger import SendLedger

    with SendLedger(ledger_target(settings)) as ledger:
        run = ledger.send_run(issue.slug)
        if run is None or not ledger.has_batches(run.id):
            raise DigestError(f"no shared send of {issue.slug} to join: start one with "
                              f"`digest send {issue_dir} --workers N`")
        if run.completed_at:
            if not quiet:
                click.echo(f"The shared send of {issue.slug} is complete: nothing to join.")
            return
        _work(ctx, settings, MessageFactories(editions, settings, secret), issue_dir, ledger, run, options, workers, quiet)


def is_shared(settings: Settings, slug: str) -> bool:
    """Whether the issue's send was started shared (its audience cut into batches)."""
    from ..store.engines import ledger_exists, ledger_target
    from ..store.ledger import SendLedger

    target = ledger_target(settings)
    if not ledger_exists(target):
        return False
    with SendLedger(target) as ledger:
        run = ledger.send_run(slug)
        return run is not None and ledger.has_batches(run.id)


def _work(ctx: click.Context, settings: Settings, factory: MessageFactories, issue_dir: Path, ledger: SendLedger,
          run: SendRun, options: SendOptions, workers: int, quiet: bool) -> None:
    from ..delivery.backends import get_backend
    from ..delivery.workers import work_on_send

    helpers = _spawn_helpers(settings, issue_dir, workers - 1)
    stop = threading.Event()

    def on_interrupt(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        for helper in helpers:
            helper.send_signal(signal.SIGINT)
        click.echo("\nStopping after the messages in flight (Ctrl-C again to abort at once)...", err=True)

    progress = None if quiet else _TeamProgress(ledger, run.id)
    previous = signal.signal(signal.SIGINT, on_interrupt)
    error: DeliveryError | None = None
    try:
        report = work_on_send(factory, ledger, lambda: get_backend(settings), options, run.id, stop=stop,
                              on_progress=progress)
    except DeliveryError as exc:
        error, report = exc, None
    finally:
        signal.signal(signal.SIGINT, previous)
    failed_helpers = sum(1 for helper in helpers if helper.wait() not in (0, 1, 130, -signal.SIGINT))
    complete = ledger.complete_if_done(run.id)
    if quiet:
        if error is not None:
            raise DeliveryError(f"{error}; this worker stopped")
        ctx.exit(130 if stop.is_set() else 0)
    _summary(ctx, ledger, run, issue_dir, error, stop.is_set(), failed_helpers, complete,
             report.progress.confirmed if report else 0)


def _spawn_helpers(settings: Settings, issue_dir: Path, count: int) -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "digest"]
    if settings.source is not None:
        command += ["--config", str(settings.source)]
    command += ["send", str(issue_dir), "--join", "--yes", "--quiet"]
    # A session of their own: Ctrl-C reaches them once, forwarded by this process, not twice
    # (a second Ctrl-C means "abort at once").
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
            for _ in range(count)]


class _TeamProgress:
    """The whole send's progress (every worker's), from the ledger every few seconds."""

    def __init__(self, ledger: SendLedger, send_id: int):
        self.ledger, self.send_id = ledger, send_id
        audience = ledger.audience(send_id)
        self.size = audience.members if audience else 0
        self.tty = sys.stderr.isatty()
        self.every = 1.0 if self.tty else 10.0
        self.started = self.last = time.monotonic()
        self.first_done: int | None = None

    def __call__(self, _progress: Any) -> None:
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        counts = self.ledger.counts(self.send_id)
        delivered = counts.get("sent", 0) + counts.get("queued", 0)
        self.first_done = delivered if self.first_done is None else self.first_done
        rate = (delivered - self.first_done) / max(now - self.started, 1e-9)
        remaining = max(0, self.size - delivered - counts.get("failed", 0))
        line = (f"all workers: sent {delivered:,}  failed {counts.get('failed', 0):,}  deferred "
                f"{counts.get('deferred', 0):,}  remaining {remaining:,}  {rate:,.1f} msg/s")
        click.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)


def _summary(ctx: click.Context, ledger: SendLedger, run: SendRun, issue_dir: Path, error: DeliveryError | None,
             interrupted: bool, failed_helpers: int, complete: bool, confirmed: int) -> None:
    counts = ledger.counts(run.id)
    if sys.stderr.isatty():
        click.echo("", err=True)
    if confirmed:
        click.echo(f"{confirmed:,} member(s) in flight when a worker stopped were found delivered")
    click.echo(f"All workers: sent {counts.get('sent', 0) + counts.get('queued', 0):,}, failed {counts.get('failed', 0):,}, "
               f"deferred {counts.get('deferred', 0):,}; complete: {'yes' if complete else 'no'}.")
    if error is not None:
        raise DeliveryError(f"{error}; the send stopped, run `digest send {issue_dir}` to resume")
    if failed_helpers and not complete:
        raise DigestError(f"{failed_helpers} worker process(es) failed; run `digest send {issue_dir}` to resume")
    if failed_helpers:
        click.echo(f"{failed_helpers} worker process(es) ended abnormally; the others took over their batches.", err=True)
    if interrupted:
        click.echo(f"Interrupted: run `digest send {issue_dir}` again to resume.", err=True)
        ctx.exit(130)
    if counts.get("deferred", 0) or not complete:
        click.echo(f"Not complete: run `digest send {issue_dir}` again to retry the rest.", err=True)
        ctx.exit(1)


def show_workers(ledger: SendLedger, run: SendRun) -> None:
    """The shared part of ``digest status``: batches, the shared rate, each worker."""
    batches = ledger.batches_by_state(run.id)
    rate = ledger.rate(run.id)
    click.echo("Shared send: batches "
               + ", ".join(f"{batches.get(state, 0):,} {state}" for state in ("pending", "claimed", "done"))
               + f"; rate {f'{rate:g} msg/s shared by all workers' if rate else 'unlimited'}")
    for worker in ledger.workers(run.id):
        held = ", ".join(f"#{batch} (lease {left:.0f} s left)" if left >= 0 else f"#{batch} (lease lapsed {-left:.0f} s ago)"
                         for batch, left in worker.batches) or "none"
        click.echo(f"  worker {worker.host} pid {worker.pid}: {worker.state}, heartbeat {worker.heartbeat_age:.1f} s ago, "
                   f"sent {worker.sent:,}, holds {held}")
