"""``digest send --workers N`` and ``--join``: a send shared by worker processes on one
or several machines, and the workers part of ``digest status``.

The first run fixes the audience in the ledger and cuts it into batches; this process
then works as one worker and starts N-1 more (``digest send ISSUE --join``), which
claim batches under leases. ``--join`` on another machine adds workers to a send in
progress. The machinery is imported when a command runs, not when the CLI loads."""
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
    from ..store.ledger import SendLedger, SendRun


def shared_send(ctx: click.Context, settings: Settings, issue: Any, issue_dir: Path, members_path: Path,
                backend: Backend, options: SendOptions, secret: str, workers: int, join: bool, yes: bool,
                quiet: bool, skip_doctor: bool = False) -> None:
    """Start, resume or join the issue's shared send and work on it until no batch is left."""
    from ..store.engines import ledger_target
    from ..store.ledger import SendLedger

    with SendLedger(ledger_target(settings)) as ledger:
        run = _join(ledger, issue.slug, issue_dir, quiet) if join else _start(ledger, settings, issue, issue_dir, members_path,
                                                                                backend, options, workers, yes, skip_doctor)
        if run is None:
            return
        _work(ctx, settings, issue, issue_dir, ledger, run, options, secret, workers, quiet)


def _join(ledger: SendLedger, slug: str, issue_dir: Path, quiet: bool) -> SendRun | None:
    run = ledger.send_run(slug)
    if run is None or not ledger.has_audience(run.id):
        raise DigestError(f"no shared send of {slug} to join: start one with `digest send {issue_dir} --workers N`")
    if run.completed_at:
        if not quiet:
            click.echo(f"The shared send of {slug} is complete: nothing to join.")
        return None
    return run


def _start(ledger: SendLedger, settings: Settings, issue: Any, issue_dir: Path, members_path: Path, backend: Backend,
           options: SendOptions, workers: int, yes: bool, skip_doctor: bool) -> SendRun | None:
    from ..delivery.audience import survey
    from ..delivery.workers import prepare_shared_send
    from .deliverability import check_before_send
    from .sending import _report_skipped

    run = ledger.send_run(issue.slug)
    shared = run is not None and ledger.has_audience(run.id)
    if shared:
        assert run is not None
        refuse_if_busy(ledger, run, issue_dir, options)
        to_send = ledger.audience_to_send(run.id)
        click.echo(f"Issue {issue.slug}: resuming the shared send of {ledger.audience_size(run.id):,} member(s) "
                   f"fixed when it started; {to_send:,} to send, via {backend.describe()}, {workers} worker(s) here")
    else:
        audience = survey(members_path, ledger, issue.slug)
        _report_skipped(audience, members_path)
        to_send = audience.to_send
        click.echo(f"Issue {issue.slug}: {to_send:,} member(s) to send, {audience.done:,} already done, "
                   f"via {backend.describe()}, {workers} worker(s) here")
    if to_send == 0:
        click.echo("Nothing to send: every member has been sent this issue.")
        return None
    check_before_send(settings, backend.name, skip_doctor)
    if not yes:
        click.confirm(f"Send {issue.slug} to {to_send:,} member(s) via {backend.describe()}?", abort=True)
    return prepare_shared_send(ledger, issue.slug, backend.name, members_path, options, options.batch_size_for(backend))


def refuse_if_busy(ledger: SendLedger, run: SendRun, issue_dir: Path, options: SendOptions) -> None:
    """A send whose workers are alive is joined with --join, never started a second time."""
    live = ledger.live_workers(run.id, options.lease_seconds)
    if live:
        who = ", ".join(f"{w.host} pid {w.pid}" for w in live[:3]) + (" ..." if len(live) > 3 else "")
        raise DigestError(f"{run.issue} is being sent by {len(live)} worker(s) ({who}); "
                          f"`digest send {issue_dir} --join` adds workers to it")


def _work(ctx: click.Context, settings: Settings, issue: Any, issue_dir: Path, ledger: SendLedger, run: SendRun,
          options: SendOptions, secret: str, workers: int, quiet: bool) -> None:
    from ..delivery.backends import get_backend
    from ..delivery.workers import work_on_send
    from ..render.issue import render_editions
    from ..render.mime import MessageFactories

    helpers = _spawn_helpers(settings, issue_dir, workers - 1)
    factory = MessageFactories(render_editions(issue, settings), settings, secret)
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
        self.size = ledger.audience_size(send_id)
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
    click.echo(f"Shared send: {ledger.audience_size(run.id):,} member(s) fixed at the start, batches "
               + ", ".join(f"{batches.get(state, 0):,} {state}" for state in ("pending", "claimed", "done"))
               + f"; rate {f'{rate:g} msg/s shared by all workers' if rate else 'unlimited'}")
    for worker in ledger.workers(run.id):
        held = ", ".join(f"#{batch} (lease {left:.0f} s left)" if left >= 0 else f"#{batch} (lease lapsed {-left:.0f} s ago)"
                         for batch, left in worker.batches) or "none"
        click.echo(f"  worker {worker.host} pid {worker.pid}: {worker.state}, heartbeat {worker.heartbeat_age:.1f} s ago, "
                   f"sent {worker.sent:,}, holds {held}")
