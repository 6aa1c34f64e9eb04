"""``digest send`` and ``digest status``: the CLI side of sending, a thin shell over
``digest.delivery`` (prompt, progress line, Ctrl-C, and the summary a person reads).

The sending machinery is imported when a command runs, not when the CLI loads."""
from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings
from ..errors import DeliveryError, DigestError
from .deliverability import check_before_send
from .support import issue_dir_argument, settings_from

if TYPE_CHECKING:
    from ..delivery.audience import Audience
    from ..delivery.backends import Backend
    from ..delivery.batches import SendOptions
    from ..delivery.send import Progress, SendReport
    from ..render.mime import MessageFactories
    from ..store.ledger import SendLedger


@click.command()
@issue_dir_argument
@click.option("--members", "members_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Send to this members CSV instead of the members store (one-off sends; "
                   "the store's unsubscribes, bounces and complaints are still skipped).")
@click.option("--yes", is_flag=True, help="Send without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Render and count members; send nothing, record nothing.")
@click.option("--test", "test_address", metavar="ADDRESS",
              help='Send one message, subject prefixed "[TEST] ", to ADDRESS; not recorded as the send.')
@click.option("--skip-doctor", is_flag=True, help="Send even if the SPF, DKIM or DMARC checks before the send find errors.")
@click.pass_context
def send(ctx: click.Context, issue_dir: Path, members_path: Path | None, yes: bool, dry_run: bool,
         test_address: str | None, skip_doctor: bool) -> None:
    """Send an issue to every subscribed member once; run it again to resume an interrupted send.

    Members come from the members store (see digest members), or from --members FILE.

    Example:

        digest send issues/2015-10 --dry-run
        digest send issues/2015-10 --test me@example.org
        digest send issues/2015-10 --yes
    """
    from ..content import load_issue
    from ..delivery.audience import survey
    from ..delivery.backends import get_backend
    from ..delivery.batches import SendOptions
    from ..members.tokens import unsubscribe_secret
    from ..render.issue import render_editions
    from ..render.mime import MessageFactories
    from ..store.ledger import SendLedger

    settings = settings_from(ctx)
    issue = load_issue(issue_dir)
    _refuse_on_check_errors(issue_dir, settings, for_send=not test_address)
    backend = get_backend(settings)
    options = SendOptions.from_settings(settings)
    real_send = not dry_run and not test_address
    secret = unsubscribe_secret(settings, required=real_send and backend.name != "outbox")
    if test_address:
        _send_test(settings, issue, backend, secret, members_path, test_address)
        return
    ledger_path = settings.path("ledger")
    ledger = SendLedger(ledger_path) if real_send or ledger_path.is_file() else None
    try:
        audience = survey(members_path, ledger, issue.slug)
        if members_path is None and audience.to_send == 0 and audience.done == 0:
            raise DigestError("the members store has no subscribed members: add them with `digest members import FILE` "
                              "(or the sign-up page), or send to a file with --members FILE")
        factory = MessageFactories(render_editions(issue, settings), settings, secret)
        _report_skipped(audience, members_path)
        click.echo(f"Issue {issue.slug} ({factory.subject}): {audience.to_send:,} member(s) to send, "
                   f"{audience.done:,} already done, via {backend.describe()}")
        if dry_run:
            click.echo("Dry run: nothing sent, nothing recorded.")
            return
        if audience.to_send == 0:
            click.echo("Nothing to send: every member has been sent this issue.")
            return
        check_before_send(settings, backend.name, skip_doctor)
        if not yes:
            click.confirm(f"Send {issue.slug} to {audience.to_send:,} member(s) via {backend.describe()}?", abort=True)
        assert ledger is not None
        report = _run_send(factory, members_path, ledger, settings, options, audience, issue_dir)
    finally:
        if ledger is not None:
            ledger.close()
    _report_send(ctx, report, issue_dir)


def _refuse_on_check_errors(issue_dir: Path, settings: Settings, for_send: bool) -> None:
    """The preflight gate: PreflightError if `digest check` finds errors (for a real
    send, drafts are errors; a --test message may hold drafts, marked)."""
    from ..checks.preflight import preflight

    preflight(issue_dir, settings, for_send=for_send)


def _send_test(settings: Settings, issue, backend: Backend, secret: str, members_path: Path | None, address: str) -> None:
    """One message to ``address``, with the member's own fields when it is a member (of the
    store, else of the ``[members] path`` file; of FILE with ``--members``)."""
    from ..addresses import normalise_address
    from ..errors import ContentError
    from ..members.file import Member, find_member
    from ..render.issue import render_editions
    from ..render.mime import MessageFactories
    from ..store.ledger import SendLedger

    address = normalise_address(address)
    member = None
    if members_path is None and settings.path("ledger").is_file():
        with SendLedger(settings.path("ledger")) as ledger:
            stored = ledger.member(address)
        member = stored.as_member() if stored is not None else None
    members_file = members_path or settings.path("members")
    if member is None and (members_path is not None or members_file.is_file()):
        try:
            member = find_member(members_file, address)
        except ContentError:
            pass
    member = member or Member(email=address)
    factory = MessageFactories(render_editions(issue, settings), settings, secret, subject_prefix="[TEST] ")
    message = factory.personalise(member.email, member.name, member.fields, language=member.language)
    with backend:
        result = backend.send_batch([message])[0]
    if not result.status.delivered:
        raise DeliveryError(f"test message not accepted ({result.status.value})", address, result.reason)
    click.echo(f"Test message sent to {address} via {backend.describe()} ({result.message_id or message.message_id})")


def _report_skipped(audience: Audience, members_path: Path | None) -> None:
    if not audience.skipped:
        return
    source = members_path or "the members store"
    total = sum(audience.skipped.values())
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(audience.skipped.items()))
    click.echo(f"Skipped {total:,} row(s) of {source}: {kinds}", err=True)
    for row in audience.examples:
        click.echo(f"  {source}:{row.line}: {row.email or '(empty)'}: {row.reason}", err=True)
    if total > len(audience.examples):
        click.echo(f"  ... and {total - len(audience.examples):,} more", err=True)


class _ProgressLine:
    """sent/failed/remaining and rate on stderr: one updating line on a terminal,
    a line every few seconds in a log."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.every = 0.2 if self.tty else 5.0
        self.last = time.monotonic()

    def __call__(self, progress: Progress, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        line = (f"sent {progress.sent:,}  failed {progress.failed:,}  deferred {progress.deferred:,}  "
                f"remaining {progress.remaining:,}  {progress.rate:,.1f} msg/s")
        click.echo(("\r" + line) if self.tty else line, err=True, nl=final or not self.tty)


def _run_send(factory: MessageFactories, members_path: Path | None, ledger: SendLedger, settings: Settings,
              options: SendOptions, audience: Audience, issue_dir: Path) -> SendReport:
    """The send loop with a progress line; the first Ctrl-C stops it after the batches in flight."""
    from ..delivery.backends import get_backend
    from ..delivery.send import send_issue

    stop = threading.Event()
    progress_line = _ProgressLine()

    def on_interrupt(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo("\nStopping after the messages in flight (Ctrl-C again to abort at once)...", err=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        report = send_issue(factory, members_path, ledger, lambda: get_backend(settings), options,
                            to_send=audience.to_send, on_progress=progress_line, stop=stop)
    except DeliveryError as exc:
        raise DeliveryError(f"{exc}; the send stopped, run `digest send {issue_dir}` to resume") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    progress_line(report.progress, final=True)
    return report


def _report_send(ctx: click.Context, report: SendReport, issue_dir: Path) -> None:
    progress = report.progress
    if progress.confirmed:
        click.echo(f"{progress.confirmed:,} member(s) in flight when the last run stopped were found delivered")
    if report.uncertain:
        click.echo(f"{report.uncertain:,} member(s) in flight when the last run stopped were sent again")
    click.echo(f"Sent {progress.sent:,}, failed {progress.failed:,}, deferred {progress.deferred:,}.")
    if progress.failed:
        click.echo(f"{progress.failed:,} refused for good: see `digest status {issue_dir}`", err=True)
    if report.interrupted:
        click.echo(f"Interrupted: run `digest send {issue_dir}` again to resume.", err=True)
        ctx.exit(130)
    if progress.deferred:
        click.echo(f"{progress.deferred:,} deferred after temporary failures: run `digest send {issue_dir}` again to retry them.", err=True)
        ctx.exit(1)


@click.command()
@issue_dir_argument
@click.pass_context
def status(ctx: click.Context, issue_dir: Path) -> None:
    """Show an issue's send: members by state, the last error of each failed one, completeness.

    Example:

        digest status issues/2015-10
    """
    from ..store.ledger import SendLedger

    settings = settings_from(ctx)
    slug = issue_dir.resolve().name
    ledger_path = settings.path("ledger")
    run = None
    if ledger_path.is_file():
        with SendLedger(ledger_path) as ledger:
            run = ledger.send_run(slug)
            counts = ledger.counts(run.id) if run else {}
            unfinished = ledger.unfinished(run.id) if run else []
    if run is None:
        click.echo(f"Issue {slug}: not sent yet (no send recorded in {ledger_path}).")
        return
    click.echo(f"Issue {slug}: send via {run.backend}, started {run.started_at}, {run.runs} run(s), last {run.updated_at}")
    for state in ("sent", "queued", "failed", "deferred", "sending"):
        click.echo(f"  {state:9s} {counts.get(state, 0):,}")
    if run.completed_at:
        click.echo(f"Complete: yes ({run.completed_at})")
    else:
        click.echo(f"Complete: no: run `digest send {issue_dir}` to resume")
    shown = len(unfinished)
    not_delivered = sum(counts.get(state, 0) for state in ("failed", "deferred", "sending"))
    if shown:
        click.echo("Not delivered (last error):")
    for delivery in unfinished:
        click.echo(f"  {delivery.email}  {delivery.state}  {delivery.error or '(in flight when a run stopped)'}")
    if not_delivered > shown:
        click.echo(f"  ... and {not_delivered - shown:,} more")


