"""The editor's commands: ``new``, ``add``, ``pull``, ``check`` and ``build``.

Each imports its machinery when it runs, so ``digest --help`` and the other commands
start without loading premailer, requests or feedparser.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .support import LinkProgress, issue_dir_argument, settings_from

if TYPE_CHECKING:
    from ..config import Settings


@click.command()
@issue_dir_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (default: build/<slug>/).")
@click.pass_context
def build(ctx: click.Context, issue_dir: Path, out_dir: Path | None) -> None:
    """Render an issue to email.html, email.txt, email.eml and index.html (per language);
    refuses if `digest check` finds errors (drafts are built, marked, with a warning).

    Example:

        digest build issues/2015-10
    """
    from ..checks.preflight import preflight
    from ..render.build import write_build

    settings = settings_from(ctx)
    report = preflight(issue_dir, settings)
    assert report.issue is not None and report.samples
    for finding in report.findings:
        click.echo(str(finding), err=True)
    result = write_build(report.issue, report.samples, settings, out_dir)
    for path in result.files.values():
        click.echo(str(path))
    click.echo(f"HTML size: {result.html_bytes:,} bytes ({result.html_bytes / result.clip_bytes:.0%} of Gmail's {result.clip_bytes:,}-byte clip limit)")
    click.echo(_preview_line(settings, result.issue.slug))


@click.command()
@issue_dir_argument
@click.option("--links", is_flag=True, help="Also fetch every link and image, in bodies too, and report broken ones ([linkcheck] timeout, workers).")
@click.option("--spamassassin/--no-spamassassin", default=True, show_default=True,
              help="Score the sample message with SpamAssassin's local tests, when it is installed.")
@click.option("--for-send", is_flag=True, help="Check as `digest send` does: drafts are errors.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object on stdout with every finding, for CI.")
@click.pass_context
def check(ctx: click.Context, issue_dir: Path, links: bool, spamassassin: bool, for_send: bool, output_format: str) -> None:
    """Validate an issue without writing anything: exit 1 if there are errors.

    `build` and `send` refuse the same errors (`send` also refuses drafts).

    Example:

        digest check issues/2015-10 --links
        digest check issues/2015-10 --format json
    """
    from ..checks.preflight import run_checks

    report = run_checks(issue_dir, settings_from(ctx), links=links, spamassassin=spamassassin, for_send=for_send,
                        progress=LinkProgress() if links and output_format == "text" else None)
    errors, warnings, notes = (report.count(s) for s in ("error", "warning", "note"))
    if output_format == "json":
        import json

        findings = [{"severity": f.severity, "message": f.message, "path": str(f.path), "line": f.line} for f in report.findings]
        sample = report.sample
        click.echo(json.dumps({
            "issue": str(issue_dir), "ok": not errors, "errors": errors, "warnings": warnings, "notes": notes,
            "html_bytes": sample.html_bytes if sample else None, "clip_bytes": settings_from(ctx).clip_bytes,
            "findings": findings,
        }, ensure_ascii=False, indent=2))
        ctx.exit(1 if errors else 0)
    for finding in report.findings:
        click.echo(str(finding), err=True)
    summary = f"{issue_dir}: {errors} error(s), {warnings} warning(s)"
    if errors:
        click.echo(summary, err=True)
        ctx.exit(1)
    click.echo(summary if errors or warnings else f"{issue_dir}: ok")


@click.command()
@click.argument("slug")
@click.option("--title", help="Issue title (default: the newsletter's name).")
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Issue date, YYYY-MM-DD (default: the last day of the month a YYYY-MM name names, else today).")
@click.pass_context
def new(ctx: click.Context, slug: str, title: str | None, date: dt.datetime | None) -> None:
    """Start a new issue folder under the issues folder, with an example item; never overwrites.

    Example:

        digest new 2026-01 --title "January news" --date 2026-01-30
    """
    from ..content.scaffold import month_end, new_issue

    chosen = date.date() if date else month_end(slug)
    folder = new_issue(settings_from(ctx), slug, title, chosen or dt.date.today())
    click.echo(str(folder))
    if date is None:
        dated = f"{chosen.isoformat()} (the last day of its month)" if chosen else f"{dt.date.today().isoformat()} (today)"
        click.echo(f"dated {dated}; --date or date = in issue.toml sets another", err=True)


@click.command()
@issue_dir_argument
@click.argument("url")
@click.option("--section", help="Title of the section to add to (default: the last section).")
@click.option("--new-section", is_flag=True, help="Create the --section at the end if the issue has none by that title.")
@click.option("--force", is_flag=True, help="Add the page even if an item of the issue already links to it.")
@click.pass_context
def add(ctx: click.Context, issue_dir: Path, url: str, section: str | None, new_section: bool, force: bool) -> None:
    """Make an item from a web page's title, description and image, and list it in issue.toml.

    ISSUE is the issue's folder or just its name (2026-01).

    Example:

        digest add 2026-01 https://example.org/news --section Cities
    """
    from ..sources.compose import add_page

    _needs_section(section, new_section)
    written = add_page(issue_dir, url, settings_from(ctx), section, new_section, force)
    click.echo(str(written.path))
    item = written.item
    click.echo(f"  title:   {item.title or item.link}")
    click.echo(f"  section: {written.section}{' (new)' if written.new_section else ''}")
    click.echo(f"  image:   {item.image}" if item.image else "  image:   none (the page names no og:image)")
    if item.image and not item.image_alt:
        click.echo(f"warning: {written.path}: the page gives no text for its image (og:image:alt); write image_alt, "
                   "or delete the image lines: check reports an error until then", err=True)


@click.command()
@issue_dir_argument
@click.option("--section", help="Title of the section for every draft (default: the feed's section in [feeds], else the last).")
@click.option("--new-section", is_flag=True, help="Create the --section at the end if the issue has none by that title.")
@click.pass_context
def pull(ctx: click.Context, issue_dir: Path, section: str | None, new_section: bool) -> None:
    """Add draft items for feed entries published since the previous issue ([feeds] urls).

    At most [feeds] max_new entries a feed, the newest. ISSUE is the issue's folder or
    just its name.

    Example:

        digest pull 2026-01
    """
    from ..sources.compose import pull_feeds

    _needs_section(section, new_section)
    result = pull_feeds(issue_dir, settings_from(ctx), section, new_section)
    for written in result.created:
        click.echo(f"{written.path}  {written.item.title or written.item.link}  [{written.section}{', new' if written.new_section else ''}]")
    since = f"since {result.since.isoformat()}" if result.since else "(no earlier issue: all entries)"
    skipped = f"skipped {result.already_listed} already in the issue, {result.too_old} older, {result.undated} undated"
    capped = f"; left out {result.left_out} older over [feeds] max_new = {result.max_new} a feed" if result.left_out else ""
    click.echo(f"{len(result.created)} draft item(s) from {result.feeds} feed(s) {since}; {skipped}{capped}", err=True)


def _needs_section(section: str | None, new_section: bool) -> None:
    if new_section and section is None:
        raise click.UsageError("--new-section needs --section TITLE")


def _preview_line(settings: Settings, slug: str) -> str:
    """How to see the issue in the preview server (which serves the issues folder)."""
    table = settings.table("preview")
    return f"Preview: digest preview, then open http://{table['host']}:{table['port']}/issues/{slug}/"
