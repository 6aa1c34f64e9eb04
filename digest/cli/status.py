"""``digest status``: an issue's send as the ledger has it (its audience, members by
state, the lease, last errors, and for a shared send its batches, workers and rate),
once or live (``--watch``). The ledger is imported when the command runs."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from ..errors import ContentError
from .sending import _report_skipped
from .support import issue_dir_argument, settings_from


@click.command()
@issue_dir_argument
@click.option("--watch", is_flag=True, help="Show it again every two seconds until the send is complete (Ctrl-C ends).")
@click.pass_context
def status(ctx: click.Context, issue_dir: Path, watch: bool) -> None:
    """Show an issue's send: its audience, members by state, last errors, completeness,
    and for a shared send its batches, workers, their leases and the rate.

    Example:

        digest status issues/2015-10
        digest status issues/2015-10 --watch
    """
    if not issue_dir.is_dir():
        raise ContentError("not an issue folder (no such directory)", issue_dir)
    while True:
        if watch and sys.stdout.isatty():
            click.clear()
        complete = _show_status(ctx, issue_dir)
        if not watch or complete:
            return
        try:
            time.sleep(2)
        except KeyboardInterrupt:
            ctx.exit(130)
        click.echo("")


def _show_status(ctx: click.Context, issue_dir: Path) -> bool:
    """Print the status once; True when there is nothing more to watch."""
    from ..store.engines import describe, ledger_exists, ledger_target
    from ..store.ledger import STATES, SendLedger

    settings = settings_from(ctx)
    slug = issue_dir.resolve().name
    target = ledger_target(settings)
    if not ledger_exists(target):
        click.echo(f"Issue {slug}: not sent yet (no ledger at {describe(target)}).")
        return True
    with SendLedger(target) as ledger:
        run = ledger.send_run(slug)
        if run is None:
            click.echo(f"Issue {slug}: not sent yet (no send recorded in {describe(target)}).")
            return True
        counts, unfinished = ledger.counts(run.id), ledger.unfinished(run.id)
        audience, lease = ledger.audience(run.id), ledger.lease(slug)
        skipped, examples = ledger.skipped_counts(run.id), ledger.skipped_rows(run.id)
        click.echo(f"Issue {slug}: send via {run.backend}, started {run.started_at}, {run.runs} run(s), last {run.updated_at}")
        if ledger.has_batches(run.id):
            from .workers import show_workers

            show_workers(ledger, run)
    if audience is not None:
        click.echo(f"Audience: {audience.members:,} member(s) from {audience.source} (sha256 {audience.source_hash}), "
                   f"taken {audience.taken_at}")
        _report_skipped(skipped, examples, audience.source)
    for state in STATES:
        if state in counts or state in ("sent", "failed", "deferred", "sending"):
            click.echo(f"  {state:9s} {counts.get(state, 0):,}")
    if lease is not None:
        from ..store.leases import holder_gone

        gone = holder_gone(lease)
        if gone:
            click.echo(f"Last held by {lease.describe()}, now gone ({gone}): the next `digest send` takes it over")
        else:
            click.echo(f"Being sent now by {lease.describe()}")
    if run.completed_at:
        click.echo(f"Complete: yes ({run.completed_at})")
    else:
        click.echo(f"Complete: no: run `digest send {issue_dir}` to resume")
    not_delivered = sum(counts.get(state, 0) for state in ("failed", "deferred", "sending"))
    if unfinished:
        click.echo("Not delivered (last error):")
    for delivery in unfinished:
        click.echo(f"  {delivery.email}  {delivery.state}  {delivery.error or '(in flight when a run stopped)'}")
    if not_delivered > len(unfinished):
        click.echo(f"  ... and {not_delivered - len(unfinished):,} more")
    return run.completed_at is not None
