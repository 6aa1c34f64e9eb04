"""The members' side: the members store (``members``), the suppression list
(``suppress``) and provider bounce and complaint events (``bounces``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import DigestError
from .support import ledger_from

# The statuses ``members list --status`` takes (digest.store.members.STATUSES; a test keeps them in step).
MEMBER_STATUSES = ["pending", "subscribed", "unsubscribed", "bounced", "complained"]
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


@click.group()
def members() -> None:
    """Manage the members store: who is subscribed, in which language, on what consent."""


@members.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def members_import(ctx: click.Context, file: Path) -> None:
    """Add or update members from a CSV with an email column (run it again: nothing changes).

    Rows become subscribed members with consent "import"; nobody unsubscribed, bounced,
    complained or forgotten is ever resubscribed. Every row is reported with its line.

    Example:

        digest members import members.csv
    """
    from ..members.roster import SKIPPED, import_members

    with ledger_from(ctx) as ledger:
        report = import_members(file, ledger)
    for verdict in report.verdicts:
        detail = f" ({verdict.detail})" if verdict.detail else ""
        click.echo(f"{file}:{verdict.line}: {verdict.action} {verdict.email or '(empty)'}{detail}",
                   err=verdict.action == SKIPPED)
    click.echo(f"{file}: {report.summary()}")


@members.command("export")
@click.pass_context
def members_export(ctx: click.Context) -> None:
    """Write every member as CSV to standard output (status and consent included).

    Example:

        digest members export > members-backup.csv
    """
    from ..members.roster import export_members

    with ledger_from(ctx) as ledger:
        columns = {name for member in ledger.members() for name in member.fields}
        export_members(ledger.members(), sys.stdout, columns)


@members.command("list")
@click.option("--status", type=click.Choice(MEMBER_STATUSES), help="Only members with this status.")
@click.pass_context
def members_list(ctx: click.Context, status: str | None) -> None:
    """Print members: address, status, language, name, tab-separated.

    Example:

        digest members list --status pending
    """
    with ledger_from(ctx) as ledger:
        for member in ledger.members(status):
            click.echo("\t".join((member.address, member.status, member.language, member.name)))


@members.command("add")
@click.argument("address")
@click.option("--name", default="", help="The member's name.")
@click.option("--language", default="", help="The member's language (e.g. en, ja).")
@click.pass_context
def members_add(ctx: click.Context, address: str, name: str, language: str) -> None:
    """Subscribe one address (consent "cli"); never resubscribes someone who left.

    Example:

        digest members add aiko@example.org --name "Aiko Tanaka" --language ja
    """
    from ..members.roster import add_member

    with ledger_from(ctx) as ledger:
        click.echo(add_member(ledger, address, name, language))


@members.command("remove")
@click.argument("address")
@click.pass_context
def members_remove(ctx: click.Context, address: str) -> None:
    """Stop mailing an address: it becomes unsubscribed and stays suppressed (see forget).

    Example:

        digest members remove aiko@example.org
    """
    from ..members.roster import remove_member

    with ledger_from(ctx) as ledger:
        click.echo(remove_member(ledger, address))


@members.command("export-data")
@click.argument("address")
@click.pass_context
def members_export_data(ctx: click.Context, address: str) -> None:
    """Print everything held about one address as JSON: profile, consent, sends and outcomes.

    Example:

        digest members export-data aiko@example.org > aiko.json
    """
    from ..members.roster import checked_address

    email = checked_address(address)
    with ledger_from(ctx) as ledger:
        data = ledger.member_data(email)
    if data is None:
        raise DigestError(f"{email}: nothing is held about this address")
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@members.command("forget")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def members_forget(ctx: click.Context, address: str, yes: bool) -> None:
    """Erase everything held about an address but a salted hash, so it is never mailed again.

    Example:

        digest members forget aiko@example.org --yes
    """
    from ..members.roster import checked_address

    email = checked_address(address)
    if not yes:
        click.confirm(f"Erase everything held about {email}? This cannot be undone", abort=True)
    with ledger_from(ctx) as ledger:
        held = ledger.forget(email)
    click.echo(f"{email}: forgotten" + ("" if held else " (nothing was held; it will never be mailed or imported)"))
