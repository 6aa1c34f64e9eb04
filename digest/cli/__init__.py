"""The ``digest`` command: a thin shell over the library (sending lives in cli_send.py).

Each command parses its arguments, calls one library function and prints the result.
A ``DigestError`` becomes one line on stderr and exit status 1 (2 for usage errors,
from click); anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from .. import __version__
from ..site.archive import build_archive
from ..members.bounces import PARSERS, import_bounces
from ..render.build import build_issue
from ..cli.sending import send, status
from ..cli.support import DigestGroup, issue_dir_argument, ledger_from, settings_from
from ..checks.preflight import check_issue
from ..sources.compose import add_page, pull_feeds
from ..errors import DigestError
from ..preview import create_server, is_loopback, listen_address
from ..content.scaffold import new_issue
from ..members.suppression_files import add_addresses, export_csv, import_csv


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="DIGEST_CONFIG",
              help="config.toml to use (default: the nearest one at or above the current folder).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Build, preview and send newsletter issues kept as files."""
    ctx.obj = {"config_path": config_path}


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
    from ..members.web import make_unsubscribe_server

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


cli.add_command(send)
cli.add_command(status)


def main() -> None:
    cli(prog_name="digest")


if __name__ == "__main__":
    sys.exit(main())
