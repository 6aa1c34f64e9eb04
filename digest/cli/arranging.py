"""Arranging an issue without hand-editing two files: ``digest item mv|rm|undraft`` and
``digest section rename``. Each is one call into ``content/arrange.py``, which edits
issue.toml with its comments kept and changes the folder all at once or not at all."""
from __future__ import annotations

from pathlib import Path

import click

from .support import issue_dir_argument


@click.group()
def item() -> None:
    """Move, remove or undraft an issue's items."""


@item.command("mv")
@issue_dir_argument
@click.argument("item_name", metavar="ITEM")
@click.option("--section", help="Title of the section to move to (default: the item's own).")
@click.option("--new-section", is_flag=True, help="Create the --section at the end if the issue has none by that title.")
@click.option("--position", type=click.IntRange(min=1), help="1 for first (default: last).")
def mv(issue_dir: Path, item_name: str, section: str | None, new_section: bool, position: int | None) -> None:
    """Move an item to another section, or to another position in its own.

    ISSUE is the issue's folder or just its name (2026-01); ITEM is an item's file
    name, with or without .md.

    Example:

        digest item mv 2026-01 solar-roofs --section Cities --position 1
    """
    from ..content.arrange import move_item

    if new_section and section is None:
        raise click.UsageError("--new-section needs --section TITLE")
    placed = move_item(issue_dir, item_name, section, position, new_section)
    click.echo(f"{issue_dir / placed.name}: item {placed.position} of {placed.section!r}")
    _warn_emptied(placed.emptied)


@item.command("rm")
@issue_dir_argument
@click.argument("item_name", metavar="ITEM")
def rm(issue_dir: Path, item_name: str) -> None:
    """Remove an item: its line in issue.toml, its file and its translations, together.

    ISSUE is the issue's folder or just its name (2026-01); ITEM is an item's file
    name, with or without .md.

    Example:

        digest item rm 2026-01 example-item
    """
    from ..content.arrange import remove_item

    placed, removed = remove_item(issue_dir, item_name)
    click.echo(f"removed {issue_dir / placed.name} (item {placed.position} of {placed.section!r})")
    for path in removed:
        if path.name != placed.name:
            click.echo(f"removed its translation {path}")
    _warn_emptied(placed.emptied)


@item.command("undraft")
@issue_dir_argument
@click.argument("item_names", metavar="ITEM...", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Every item still marked draft = true.")
def undraft(issue_dir: Path, item_names: tuple[str, ...], every: bool) -> None:
    """Keep pulled items: delete their draft = true line.

    ISSUE is the issue's folder or just its name (2026-01); each ITEM is an item's
    file name, with or without .md.

    Example:

        digest item undraft 2026-01 bike-lanes-buses tree-planting
    """
    from ..content.arrange import draft_items, undraft_items

    if every == bool(item_names):
        raise click.UsageError("name the items to undraft, or give --all")
    names = draft_items(issue_dir) if every else list(item_names)
    for path in undraft_items(issue_dir, names):
        click.echo(f"kept {path}")
    if every and not names:
        click.echo("no drafts", err=True)


@click.group()
def section() -> None:
    """Rename an issue's sections."""


@section.command("rename")
@issue_dir_argument
@click.argument("old")
@click.argument("new")
def rename(issue_dir: Path, old: str, new: str) -> None:
    """Give a section a new title.

    ISSUE is the issue's folder or just its name (2026-01).

    Example:

        digest section rename 2026-01 "Event" "Events"
    """
    from ..content.arrange import rename_section

    number = rename_section(issue_dir, old, new)
    click.echo(f"section {number}: {old!r} is now {new!r}")


def _warn_emptied(title: str | None) -> None:
    if title is not None:
        click.echo(f"warning: section {title!r} has no items now; check reports it until it has one", err=True)
