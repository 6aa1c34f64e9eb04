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
    """Render an issue to email.html, email.txt, email.eml and index.html; refuses if
    `digest check` finds errors (drafts are built, marked, with a warning).

    Example:

        digest build issues/2015-10
    """
    from ..checks.preflight import preflight
    from ..render.build import write_build

    settings = settings_from(ctx)
    report = preflight(issue_dir, settings)
    assert report.issue is not None and report.sample is not None
    for finding in report.findings:
        click.echo(str(finding), err=True)
    result = write_build(report.issue, report.sample.message, settings, out_dir)
    for kind in ("html", "text", "eml", "web"):
        click.echo(str(result.files[kind]))
    click.echo(f"HTML size: {result.html_bytes:,} bytes ({result.html_bytes / result.clip_bytes:.0%} of Gmail's {result.clip_bytes:,}-byte clip limit)")


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

    report = run_checks(issue_dir, settings_from(ctx), links=links, spamassassin=spamassassin, for_send=for_send)
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
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Issue date, YYYY-MM-DD (default: today).")
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
