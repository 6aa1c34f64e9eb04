"""The members' side: the suppression list (``suppress``) and provider bounce and
complaint events (``bounces``)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import DigestError
from .support import ledger_from

# The providers ``bounces import --format`` reads; digest.members.bounces has a parser for each
# (a test keeps the two in step), named here so --help need not import the parsers.
BOUNCE_FORMATS = ["mailgun", "postmark", "sendgrid", "ses"]


@click.group()
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
    from ..members.suppression_files import add_addresses

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
    from ..members.suppression_files import import_csv

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
    from ..members.suppression_files import export_csv

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


@click.group()
def bounces() -> None:
    """Turn a provider's bounce and complaint events into suppressions."""


@bounces.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "provider", type=click.Choice(BOUNCE_FORMATS), required=True,
              help="Which provider exported the file.")
@click.pass_context
def bounces_import(ctx: click.Context, file: Path, provider: str) -> None:
    """Suppress hard bounces and complaints at once, and soft bounces after 3 in a row.

    Example:

        digest bounces import events.jsonl --format postmark
    """
    from ..members.bounces import import_bounces

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
