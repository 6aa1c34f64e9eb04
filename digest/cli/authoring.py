"""The editor's commands: ``new``, ``add``, ``pull``, ``check`` and ``build``.

Each imports its machinery when it runs, so ``digest --help`` and the other commands
start without loading premailer, requests or feedparser.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .support import issue_dir_argument, settings_from


@click.command()
@issue_dir_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (default: build/<slug>/).")
@click.pass_context
def build(ctx: click.Context, issue_dir: Path, out_dir: Path | None) -> None:
    """Render an issue to email.html, email.txt, email.eml and index.html.

    Example:

        digest build issues/2015-10
    """
    from ..render.build import build_issue

    result = build_issue(issue_dir, settings_from(ctx), out_dir)
    for kind in ("html", "text", "eml", "web"):
        click.echo(str(result.files[kind]))
    size = f"HTML size: {result.html_bytes:,} bytes ({result.html_bytes / result.clip_bytes:.0%} of Gmail's {result.clip_bytes:,}-byte clip limit)"
    click.echo(size)
    if result.over_clip_limit:
        click.echo("warning: Gmail will clip this email; shorten it or split the issue", err=True)


@click.command()
@issue_dir_argument
@click.option("--links", is_flag=True, help="Also fetch every link and image and report broken ones ([linkcheck] timeout, workers).")
@click.pass_context
def check(ctx: click.Context, issue_dir: Path, links: bool) -> None:
    """Validate an issue without writing anything: exit 1 if there are errors.

    Example:

        digest check issues/2015-10 --links
    """
    from ..checks.preflight import check_issue

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


@click.command()
@click.argument("slug")
@click.option("--title", help="Issue title (default: the newsletter's name).")
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Issue date, YYYY-MM-DD (default: today, or the first of the month a YYYY-MM name gives).")
@click.pass_context
def new(ctx: click.Context, slug: str, title: str | None, date: dt.datetime | None) -> None:
    """Start a new issue folder under the issues folder, with an example item; never overwrites.

    Example:

        digest new 2026-01 --title "January news" --date 2026-01-30
    """
    from ..content.scaffold import new_issue

    folder = new_issue(settings_from(ctx), slug, title, date.date() if date else None)
    click.echo(str(folder))


@click.command()
@issue_dir_argument
@click.argument("url")
@click.option("--section", help="Section title to add to (created if missing; default: the last section).")
@click.pass_context
def add(ctx: click.Context, issue_dir: Path, url: str, section: str | None) -> None:
    """Make an item from a web page's title, description and image, and list it in issue.toml.

    Example:

        digest add issues/2026-01 https://example.org/news --section Cities
    """
    from ..sources.compose import add_page

    path = add_page(issue_dir, url, settings_from(ctx), section)
    click.echo(str(path))


@click.command()
@issue_dir_argument
@click.option("--section", help="Section title to add to (created if missing; default: the last section).")
@click.pass_context
def pull(ctx: click.Context, issue_dir: Path, section: str | None) -> None:
    """Add draft items for feed entries published since the previous issue ([feeds] urls).

    Example:

        digest pull issues/2026-01
    """
    from ..sources.compose import pull_feeds

    result = pull_feeds(issue_dir, settings_from(ctx), section)
    for path in result.created:
        click.echo(str(path))
    since = f"since {result.since.isoformat()}" if result.since else "(no earlier issue: all entries)"
    skipped = f"skipped {result.already_listed} already in the issue, {result.too_old} older, {result.undated} undated"
    click.echo(f"{len(result.created)} draft item(s) from {result.feeds} feed(s) {since}; {skipped}", err=True)
