"""``digest send`` and ``digest status``: the CLI side of sending, a thin shell over
``digest.delivery`` (prompt, progress, Ctrl-C, and the summary a person reads).

The sending machinery is imported when a command runs, not when the CLI loads."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings
from ..errors import ContentError, DeliveryError, DigestError, SendRefused
from .deliverability import check_before_send
from .support import issue_dir_argument, settings_from

if TYPE_CHECKING:
    from ..delivery.audience import SendPlan
    from ..delivery.backends import Backend
    from ..delivery.send import SendReport
    from ..store.ledger import SkippedRow
    from ..render.issue import RenderedIssue


@click.command()
@issue_dir_argument
@click.option("--members", "members_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Send to this members CSV instead of the members store (one-off sends; the store's "
                   "unsubscribes, bounces and complaints are still skipped). A send in progress keeps its audience.")
@click.option("--yes", is_flag=True, help="Send without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Render and count members; send nothing, record nothing.")
@click.option("--test", "test_address", metavar="ADDRESS",
              help='Send one message, subject prefixed "[TEST] ", to ADDRESS; never recorded as a delivery.')
@click.option("--new-ledger", is_flag=True,
              help="Send even though the issue was sent before with a ledger that is now missing or elsewhere.")
@click.option("--skip-doctor", is_flag=True, help="Send even if the SPF, DKIM or DMARC checks before the send find errors.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Share the send among N worker processes here, claiming batches under leases.")
@click.option("--join", is_flag=True, help="Add workers (one, or --workers N) to a shared send in progress.")
@click.option("--quiet", is_flag=True, hidden=True, help="No progress and no summary (for workers started by --workers).")
@click.pass_context
def send(ctx: click.Context, issue_dir: Path, members_path: Path | None, yes: bool, dry_run: bool,
         test_address: str | None, new_ledger: bool, skip_doctor: bool, workers: int | None, join: bool,
         quiet: bool) -> None:
    """Send an issue to every subscribed member once; run it again to resume an interrupted send.

    Members come from the members store (see digest members), or from --members FILE.

    Example:

        digest send issues/2015-10 --dry-run
        digest send issues/2015-10 --test me@example.org
        digest send issues/2015-10 --yes
        digest send issues/2015-10 --yes --workers 4     # then, elsewhere: --join
    """
    from ..content import load_issue
    from ..delivery.backends import get_backend
    from ..delivery.batches import SendOptions
    from ..members.tokens import unsubscribe_secret

    settings = settings_from(ctx)
    issue = load_issue(issue_dir)
    editions = _checked_editions(issue_dir, settings, for_send=not test_address)
    explicit = members_path is not None
    backend = get_backend(settings)
    options = SendOptions.from_settings(settings)
    if test_address:
        _send_test(settings, editions, backend, unsubscribe_secret(settings, required=True, create=True), members_path,
                   test_address)
    elif dry_run:
        _dry_run(settings, issue, editions, backend, unsubscribe_secret(settings, required=False), members_path, explicit)
    elif join:
        from .workers import join_shared_send

        local = backend.name == "outbox"
        join_shared_send(ctx, settings, issue, editions, issue_dir, options,
                         unsubscribe_secret(settings, required=not local, create=local), workers or 1, quiet)
    else:
        local = backend.name == "outbox"
        secret = unsubscribe_secret(settings, required=not local, create=local)
        try:
            report = _real_send(settings, issue, editions, backend, options, secret, members_path, explicit, yes,
                                new_ledger, skip_doctor, issue_dir, (ctx, workers, quiet))
        except SendRefused as exc:
            from .workers import is_shared

            if is_shared(settings, issue.slug):
                raise SendRefused(f"{exc}; to add workers to that send: `digest send {issue_dir} --join`") from None
            raise
        if report is not None:
            _report_send(ctx, report, issue_dir)


def _checked_editions(issue_dir: Path, settings: Settings, for_send: bool) -> dict[str, RenderedIssue]:
    """The preflight gate: PreflightError if `digest check` finds errors (for a real
    send, drafts are errors; a --test message may hold drafts, marked). Returns the
    editions it rendered (one per language), so the send renders nothing twice."""
    from ..checks.preflight import preflight

    return preflight(issue_dir, settings, for_send=for_send).editions


def _send_test(settings: Settings, editions: dict[str, RenderedIssue], backend: Backend, secret: str,
               members_path: Path | None, address: str) -> None:
    """One message to ``address``, with the member's own fields when it is a member (of the
    store, else of the ``[members] path`` file; of FILE with ``--members``)."""
    from ..addresses import normalise_address
    from ..members.file import Member, find_member
    from ..render.mime import MessageFactories
    from ..store.engines import ledger_exists, ledger_target
    from ..store.ledger import SendLedger

    address = normalise_address(address)
    member = None
    target = ledger_target(settings)
    if members_path is None and ledger_exists(target):
        with SendLedger(target) as ledger:
            stored = ledger.member(address)
        member = stored.as_member() if stored is not None else None
    members_file = members_path or settings.path("members")
    if member is None and (members_path is not None or members_file.is_file()):
        try:
            member = find_member(members_file, address)
        except ContentError:
            pass
    member = member or Member(email=address)
    factory = MessageFactories(editions, settings, secret, subject_prefix="[TEST] ")
    message = factory.personalise(member.email, member.name, member.fields, language=member.language)
    with backend.for_test() as test_backend:
        result = test_backend.send_batch([message])[0]
    if not result.status.delivered:
        raise DeliveryError(f"test message not accepted ({result.status.value})", address, result.reason)
    click.echo(f"Test message sent to {address} via {backend.describe()} ({result.message_id or message.message_id})")


def _dry_run(settings: Settings, issue, editions: dict[str, RenderedIssue], backend: Backend, secret: str,
             members_path: Path | None, explicit: bool) -> None:
    """Counts without writing: from the snapshot of a send in progress, else the members
    store (or the members file)."""
    from ..delivery.audience import STORE_SOURCE, survey
    from ..members.file import iter_members
    from ..render.mime import MessageFactories
    from ..store.engines import ledger_exists, ledger_target
    from ..store.ledger import SendLedger

    target = ledger_target(settings)
    ledger = SendLedger(target) if ledger_exists(target) else None
    try:
        run = ledger.send_run(issue.slug) if ledger is not None else None
        snapshot = ledger.audience(run.id) if ledger is not None and run is not None and not run.completed_at else None
        if snapshot is not None and (members_path is None or snapshot.source == str(members_path.resolve())):
            assert ledger is not None
            to_send, done = ledger.audience_progress(snapshot.send_id)
            source = f"the send in progress, audience taken from {snapshot.source} at {snapshot.taken_at}"
        else:
            rows = iter_members(members_path) if members_path is not None else \
                (ledger.iter_subscribed() if ledger is not None else iter(()))
            source = str(members_path) if members_path is not None else STORE_SOURCE
            audience = survey(rows, ledger, issue.slug)
            _report_skipped(dict(audience.skipped), audience.examples, source)
            to_send, done = audience.to_send, audience.done
    finally:
        if ledger is not None:
            ledger.close()
    factory = MessageFactories(editions, settings, secret)
    click.echo(f"Issue {issue.slug} ({factory.subject}): {to_send:,} member(s) to send, {done:,} already done, "
               f"via {backend.describe()} (members: {source})")
    click.echo("Dry run: nothing sent, nothing recorded.")


def _real_send(settings: Settings, issue, editions: dict[str, RenderedIssue], backend: Backend, options, secret: str,
               members_path: Path | None, explicit: bool, yes: bool, new_ledger: bool, skip_doctor: bool,
               issue_dir: Path, shared: tuple[click.Context, int | None, bool]) -> SendReport | None:
    """Lease, ledger check, audience snapshot, DNS checks, confirmation, then the send
    itself: by this process, or shared by workers (``--workers N``, or a send that was
    started shared), which ends the command itself."""
    from ..delivery.audience import members_file_source, prepare_send, store_source
    from ..delivery.history import earlier_send_findings, refuse_without_ledger
    from ..delivery.lease import HeldLease
    from ..render.mime import MessageFactories
    from ..store.engines import ledger_target
    from ..store.ledger import SendLedger
    from ..store.trail import note_send

    target = ledger_target(settings)
    ledger_path = target if isinstance(target, Path) else None  # the trail and its checks are about files
    existed = ledger_path is None or ledger_path.exists()
    stop = threading.Event()
    with SendLedger(target) as ledger, HeldLease(ledger, issue.slug, stop) as held:
        if held.taken_over is not None:
            click.echo(f"Took over the send of {issue.slug} from {held.taken_over.describe()}: {held.why}.", err=True)
        before = ledger.send_run(issue.slug)
        if before is None and ledger_path is not None:
            findings = earlier_send_findings(settings.root, issue.slug, ledger_path, existed, backend)
            if findings and not new_ledger:
                refuse_without_ledger(issue.slug, findings)
            for finding in findings:
                click.echo(f"--new-ledger: {finding}; sending {issue.slug} as a new send", err=True)
        factory = MessageFactories(editions, settings, secret)
        if members_path is None and not _in_progress(ledger, before) and not ledger.status_counts()["subscribed"]:
            raise DigestError(EMPTY_STORE)
        source = members_file_source(members_path) if members_path is not None else store_source(ledger)
        plan = prepare_send(ledger, issue.slug, backend.name, source, explicit)
        _report_plan(plan, factory.subject, backend, issue.slug)
        if plan.to_send == 0:
            ledger.finish_send(plan.run.id, True)
            click.echo("Nothing to send: every member has been sent this issue.")
            return None
        try:
            check_before_send(settings, backend.name, skip_doctor)
            if not yes and not _confirmed(f"Send {issue.slug} to {plan.to_send:,} member(s) via {backend.describe()}?"):
                raise click.Abort()
        except (DigestError, click.Abort):
            if not plan.resumed:  # nothing was sent: leave no audience and no run behind
                ledger.clear_audience(plan.run.id)
                ledger.restore_run(before, plan.run)
            raise
        if ledger_path is not None:
            note_send(settings.root, issue.slug, ledger_path, backend.name, plan.audience.members)
        ctx, workers, quiet = shared
        if workers or ledger.has_batches(plan.run.id):
            from .workers import run_shared_send

            run_shared_send(ctx, settings, factory, issue_dir, ledger, plan.run, backend, options, workers or 1, quiet)
            return None
        return _run_send(factory, ledger, plan, settings, options, held, stop, issue_dir)


EMPTY_STORE = ("the members store has no subscribed members: add them with `digest members import FILE` "
               "(or the sign-up page), or send to a file with --members FILE")


def _in_progress(ledger, run) -> bool:
    """A send of the issue started and not completed, whose audience is already fixed."""
    return run is not None and run.completed_at is None and ledger.audience(run.id) is not None


def _confirmed(question: str) -> bool:
    """The prompt's answer; no answer (end of input, Ctrl-C) is a no."""
    try:
        return click.confirm(question)
    except click.Abort:
        click.echo("", err=True)
        return False


def _report_plan(plan: SendPlan, subject: str, backend: Backend, slug: str) -> None:
    audience = plan.audience
    _report_skipped(plan.skipped, plan.examples, audience.source)
    how = "resuming the send in progress for" if plan.resumed else "audience of"
    click.echo(f"Issue {slug} ({subject}): {how} {audience.members:,} member(s) from {audience.source} "
               f"(sha256 {audience.source_hash[:12]}, taken {audience.taken_at})")
    click.echo(f"{plan.to_send:,} member(s) to send, {plan.done:,} already done, via {backend.describe()}")


def _report_skipped(skipped: dict[str, int], examples: list[SkippedRow], source: str) -> None:
    if not skipped:
        return
    total = sum(skipped.values())
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(skipped.items()))
    click.echo(f"Skipped {total:,} row(s) of {source}: {kinds}", err=True)
    for row in examples:
        click.echo(f"  {source}:{row.line}: {row.email or '(empty)'}: {row.reason}", err=True)
    if total > len(examples):
        click.echo(f"  ... and {total - len(examples):,} more (see `digest status`)", err=True)


def _run_send(factory, ledger, plan: SendPlan, settings: Settings, options, held, stop: threading.Event,
              issue_dir: Path) -> SendReport:
    """The send loop with progress; the first Ctrl-C stops it after the batches in flight."""
    from ..delivery.backends import get_backend
    from ..delivery.send import send_issue
    from .progress import send_progress

    with send_progress(plan.to_send) as display:
        def on_interrupt(signum: int, frame: Any) -> None:
            if stop.is_set():
                raise KeyboardInterrupt
            stop.set()
            display.say("Stopping after the messages in flight (Ctrl-C again to abort at once)...")

        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            return send_issue(factory, ledger, plan.run, lambda: get_backend(settings), options, fence=held.fence,
                              on_progress=display.update, on_retry=display.retry, stop=stop)
        except DeliveryError as exc:
            raise DeliveryError(f"{exc}; the send stopped, run `digest send {issue_dir}` to resume") from None
        finally:
            signal.signal(signal.SIGINT, previous)
            if held.lost.is_set():
                display.say(f"Another run took over the send of {plan.run.issue}; this run stopped.")


def _report_send(ctx: click.Context, report: SendReport, issue_dir: Path) -> None:
    progress = report.progress
    if progress.confirmed:
        click.echo(f"{progress.confirmed:,} member(s) in flight when the last run stopped were found delivered")
    if report.uncertain:
        click.echo(f"{report.uncertain:,} member(s) in flight when the last run stopped were sent again")
    click.echo(f"Sent {progress.sent:,}, failed {progress.failed:,}, deferred {progress.deferred:,}.")
    if progress.suppressed:
        click.echo(f"{progress.suppressed:,} member(s) unsubscribed since the send started were skipped")
    if progress.failed:
        click.echo(f"{progress.failed:,} refused for good: see `digest status {issue_dir}`", err=True)
    if report.interrupted:
        click.echo(f"Interrupted: run `digest send {issue_dir}` again to resume.", err=True)
        ctx.exit(130)
    if progress.deferred:
        click.echo(f"{progress.deferred:,} deferred after temporary failures: run `digest send {issue_dir}` again to retry them.", err=True)
        ctx.exit(1)
