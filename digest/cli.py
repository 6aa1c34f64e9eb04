"""The ``digest`` command: a thin shell over the library.

Each command parses its arguments, calls one library function and prints the result.
A ``DigestError`` becomes one line on stderr and exit status 1 (2 for usage errors,
from click); anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import datetime as dt
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from . import __version__
from .addresses import normalise_address
from .archive import build_archive
from .backends import Backend, get_backend
from .bounces import PARSERS, import_bounces
from .build import build_issue
from .checks import check_issue
from .compose import add_page, pull_feeds
from .config import Settings, load_settings
from .content import load_issue
from .errors import ContentError, DeliveryError, DigestError
from .ledger import SendLedger
from .members import Member, find_member
from .preview import create_server, is_loopback, listen_address
from .render import render_issue
from .render.mime import MessageFactory
from .scaffold import new_issue
from .send import Audience, Progress, SendOptions, SendReport, send_issue, survey
from .suppressions import add_addresses, export_csv, import_csv
from .tokens import unsubscribe_secret


class DigestGroup(click.Group):
    """Turns DigestError from any command into a one-line ClickException."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="DIGEST_CONFIG",
              help="config.toml to use (default: the nearest one at or above the current folder).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Build, preview and send newsletter issues kept as files."""
    ctx.obj = {"config_path": config_path}


def settings_from(ctx: click.Context):
    """Settings are loaded lazily so ``--help`` works even with a broken config."""
    obj = ctx.find_root().obj
    if "settings" not in obj:
        path = obj["config_path"]
        if path is not None and not path.is_file():
            raise DigestError(f"{path}: config file not found")
        obj["settings"] = load_settings(path)
    return obj["settings"]


issue_dir_argument = click.argument("issue_dir", type=click.Path(path_type=Path))


@cli.command()
@issue_dir_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (default: build/<slug>/).")
@click.pass_context
def build(ctx: click.Context, issue_dir: Path, out_dir: Path | None) -> None:
    """Render an issue to email.html, email.txt, email.eml and index.html.

    Example:

        digest build issues/2015-10
    """
    result = build_issue(issue_dir, settings_from(ctx), out_dir)
    for kind in ("html", "text", "eml", "web"):
        click.echo(str(result.files[kind]))
    size = f"HTML size: {result.html_bytes:,} bytes ({result.html_bytes / result.clip_bytes:.0%} of Gmail's {result.clip_bytes:,}-byte clip limit)"
    click.echo(size)
    if result.over_clip_limit:
        click.echo("warning: Gmail will clip this email; shorten it or split the issue", err=True)


@cli.command()
@issue_dir_argument
@click.option("--links", is_flag=True, help="Also fetch every link and image and report broken ones ([linkcheck] timeout, workers).")
@click.pass_context
def check(ctx: click.Context, issue_dir: Path, links: bool) -> None:
    """Validate an issue without writing anything: exit 1 if there are errors.

    Example:

        digest check issues/2015-10 --links
    """
    findings = check_issue(issue_dir, settings_from(ctx), links=links)
    for finding in findings:
        click.echo(str(finding), err=True)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    summary = f"{issue_dir}: {errors} error(s), {warnings} warning(s)"
    if errors:
        click.echo(summary, err=True)
        ctx.exit(1)
    click.echo(summary if findings else f"{issue_dir}: ok")


@cli.command()
@click.argument("slug")
@click.option("--title", help="Issue title (default: the newsletter's name).")
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Issue date, YYYY-MM-DD (default: today).")
@click.pass_context
def new(ctx: click.Context, slug: str, title: str | None, date: dt.datetime | None) -> None:
    """Start a new issue folder under the issues folder, with an example item; never overwrites.

    Example:

        digest new 2026-01 --title "January news" --date 2026-01-30
    """
    folder = new_issue(settings_from(ctx), slug, title, date.date() if date else None)
    click.echo(str(folder))


@cli.command()
@issue_dir_argument
@click.argument("url")
@click.option("--section", help="Section title to add to (created if missing; default: the last section).")
@click.pass_context
def add(ctx: click.Context, issue_dir: Path, url: str, section: str | None) -> None:
    """Make an item from a web page's title, description and image, and list it in issue.toml.

    Example:

        digest add issues/2026-01 https://example.org/news --section Cities
    """
    path = add_page(issue_dir, url, settings_from(ctx), section)
    click.echo(str(path))


@cli.command()
@issue_dir_argument
@click.option("--section", help="Section title to add to (created if missing; default: the last section).")
@click.pass_context
def pull(ctx: click.Context, issue_dir: Path, section: str | None) -> None:
    """Add draft items for feed entries published since the previous issue ([feeds] urls).

    Example:

        digest pull issues/2026-01
    """
    result = pull_feeds(issue_dir, settings_from(ctx), section)
    for path in result.created:
        click.echo(str(path))
    since = f"since {result.since.isoformat()}" if result.since else "(no earlier issue: all entries)"
    skipped = f"skipped {result.already_listed} already in the issue, {result.too_old} older, {result.undated} undated"
    click.echo(f"{len(result.created)} draft item(s) from {result.feeds} feed(s) {since}; {skipped}", err=True)


@cli.command()
@click.option("--host", help="Address to listen on (default: [preview] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: [preview] port; 0 picks a free one).")
@click.option("--member", "member_email", metavar="EMAIL",
              help="Personalise for this member of the members file (default: the sample member in config.toml).")
@click.pass_context
def preview(ctx: click.Context, host: str | None, port: int | None, member_email: str | None) -> None:
    """Serve a live-reloading preview of the issues in the browser until Ctrl-C.

    Example:

        digest preview --port 8025 --member aiko.tanaka@example.org
    """
    settings = settings_from(ctx)
    host, port = listen_address(settings, host, port)
    try:
        server = create_server(settings, host, port, member_email)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"Previewing {settings.issues_dir} at {server.url} (Ctrl-C to stop)")
    if not is_loopback(host):
        click.echo(f"warning: listening on {host}: anyone who can reach it can read the drafts", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site into (default: build/site/).")
@click.pass_context
def archive(ctx: click.Context, out_dir: Path | None) -> None:
    """Build the static web archive: an index of every issue, one page each, and an Atom feed.

    Example:

        digest archive --out build/site
    """
    result = build_archive(settings_from(ctx), out_dir)
    click.echo(f"{result.out_dir}: {len(result.entries)} issue(s), index.html and feed.xml")
    for slug in result.drafts:
        click.echo(f"left out draft {slug}", err=True)


@cli.command("serve-unsubscribe")
@click.option("--host", help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: [web] port).")
@click.pass_context
def serve_unsubscribe(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the unsubscribe web app locally (any WSGI server can run digest.web:app instead).

    Example:

        DIGEST_UNSUBSCRIBE_SECRET=... digest serve-unsubscribe --port 8026
    """
    from .web import make_unsubscribe_server

    settings = settings_from(ctx)
    web = settings.table("web")
    server = make_unsubscribe_server(settings, host or web["host"], web["port"] if port is None else port)
    bound_host, bound_port = server.server_address[:2]
    click.echo(f"Unsubscribe app on http://{bound_host}:{bound_port}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def ledger_from(ctx: click.Context) -> SendLedger:
    return SendLedger(settings_from(ctx).path("ledger"))


@cli.group()
def suppress() -> None:
    """Manage the suppression list: addresses no send will ever mail."""


@suppress.command("add")
@click.argument("addresses", nargs=-1, required=True)
@click.pass_context
def suppress_add(ctx: click.Context, addresses: tuple[str, ...]) -> None:
    """Add addresses to the suppression list (all are checked before any is added).

    Example:

        digest suppress add someone@example.org other@example.org
    """
    with ledger_from(ctx) as ledger:
        for address, added in add_addresses(addresses, ledger):
            click.echo(f"{address}: {'suppressed' if added else 'already suppressed'}")


@suppress.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def suppress_import(ctx: click.Context, file: Path) -> None:
    """Add every address in a provider's CSV export of unsubscribes or bounces.

    Example:

        digest suppress import unsubscribes.csv
    """
    with ledger_from(ctx) as ledger:
        result = import_csv(file, ledger)
    for line in result.skipped:
        click.echo(line, err=True)
    click.echo(f"{file}: {result.added} added, {result.already} already suppressed, {len(result.skipped)} skipped")
    if result.skipped:
        ctx.exit(1)


@suppress.command("list")
@click.pass_context
def suppress_list(ctx: click.Context) -> None:
    """Print the suppression list: address, reason, source, date, tab-separated.

    Example:

        digest suppress list
    """
    with ledger_from(ctx) as ledger:
        for row in ledger.suppressions():
            click.echo("\t".join((row.email, row.reason, row.source, row.created_at)))


@suppress.command("export")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (default: standard output).")
@click.pass_context
def suppress_export(ctx: click.Context, out_file: Path | None) -> None:
    """Write the suppression list as CSV (email,reason,source,created_at) for a provider.

    Example:

        digest suppress export --out suppressions.csv
    """
    with ledger_from(ctx) as ledger:
        if out_file is None:
            export_csv(ledger.suppressions(), sys.stdout)
            return
        partial = out_file.with_name(f".{out_file.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                count = export_csv(ledger.suppressions(), handle)
            partial.replace(out_file)
        except OSError as exc:
            raise DigestError(f"{out_file}: cannot write ({exc.strerror})") from None
    click.echo(f"{out_file}: {count} address(es)", err=True)


@cli.group()
def bounces() -> None:
    """Turn a provider's bounce and complaint events into suppressions."""


@bounces.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "provider", type=click.Choice(sorted(PARSERS)), required=True,
              help="Which provider exported the file.")
@click.pass_context
def bounces_import(ctx: click.Context, file: Path, provider: str) -> None:
    """Suppress hard bounces and complaints at once, and soft bounces after 3 in a row.

    Example:

        digest bounces import events.jsonl --format postmark
    """
    with ledger_from(ctx) as ledger:
        report = import_bounces(file, provider, ledger)
    for line in report.errors:
        click.echo(line, err=True)
    counts = report.counts
    click.echo(f"{file}: {report.events} event(s): {counts['hard']} hard bounce(s), {counts['complaint']} complaint(s), "
               f"{counts['soft']} soft bounce(s), {counts['unsubscribe']} unsubscribe(s), {counts['success']} success(es); "
               f"{len(report.suppressed)} newly suppressed, {len(report.errors)} line(s) skipped")
    if report.errors:
        ctx.exit(1)


@cli.command()
@issue_dir_argument
@click.option("--members", "members_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Members CSV (default: [members] path in config.toml).")
@click.option("--yes", is_flag=True, help="Send without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Render and count members; send nothing, record nothing.")
@click.option("--test", "test_address", metavar="ADDRESS",
              help='Send one message, subject prefixed "[TEST] ", to ADDRESS; not recorded as the send.')
@click.pass_context
def send(ctx: click.Context, issue_dir: Path, members_path: Path | None, yes: bool, dry_run: bool,
         test_address: str | None) -> None:
    """Send an issue to every member once; run it again to resume an interrupted send.

    Example:

        digest send issues/2015-10 --dry-run
        digest send issues/2015-10 --test me@example.org
        digest send issues/2015-10 --yes
    """
    settings = settings_from(ctx)
    issue = load_issue(issue_dir)
    members_path = members_path or settings.path("members")
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
        factory = MessageFactory(render_issue(issue, settings), settings, secret)
        _report_skipped(audience, members_path)
        click.echo(f"Issue {issue.slug} ({factory.subject}): {audience.to_send:,} member(s) to send, "
                   f"{audience.done:,} already done, via {backend.describe()}")
        if dry_run:
            click.echo("Dry run: nothing sent, nothing recorded.")
            return
        if audience.to_send == 0:
            click.echo("Nothing to send: every member has been sent this issue.")
            return
        if not yes:
            click.confirm(f"Send {issue.slug} to {audience.to_send:,} member(s) via {backend.describe()}?", abort=True)
        assert ledger is not None
        report = _run_send(factory, members_path, ledger, settings, options, audience, issue_dir)
    finally:
        if ledger is not None:
            ledger.close()
    _report_send(ctx, report, issue_dir)


def _send_test(settings: Settings, issue, backend: Backend, secret: str, members_path: Path, address: str) -> None:
    """One message to ``address``, with the member's own fields when it is a member."""
    address = normalise_address(address)
    try:
        member = find_member(members_path, address)
    except ContentError:
        member = Member(email=address)
    factory = MessageFactory(render_issue(issue, settings), settings, secret, subject=f"[TEST] {issue.subject}")
    message = factory.personalise(member.email, member.name, member.fields)
    with backend:
        result = backend.send_batch([message])[0]
    if not result.status.delivered:
        raise DeliveryError(f"test message not accepted ({result.status.value})", address, result.reason)
    click.echo(f"Test message sent to {address} via {backend.describe()} ({result.message_id or message.message_id})")


def _report_skipped(audience: Audience, members_path: Path) -> None:
    if not audience.skipped:
        return
    total = sum(audience.skipped.values())
    kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(audience.skipped.items()))
    click.echo(f"Skipped {total:,} row(s) of {members_path}: {kinds}", err=True)
    for row in audience.examples:
        click.echo(f"  {members_path}:{row.line}: {row.email or '(empty)'}: {row.reason}", err=True)
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


def _run_send(factory: MessageFactory, members_path: Path, ledger: SendLedger, settings: Settings,
              options: SendOptions, audience: Audience, issue_dir: Path) -> SendReport:
    """The send loop with a progress line; the first Ctrl-C stops it after the batches in flight."""
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


@cli.command()
@issue_dir_argument
@click.pass_context
def status(ctx: click.Context, issue_dir: Path) -> None:
    """Show an issue's send: members by state, the last error of each failed one, completeness.

    Example:

        digest status issues/2015-10
    """
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


def main() -> None:
    cli(prog_name="digest")


if __name__ == "__main__":
    sys.exit(main())
