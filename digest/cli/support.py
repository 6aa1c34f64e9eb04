"""What every ``digest`` command shares: the error-to-one-line group, lazily loaded
settings, the ledger, and the common ISSUE_DIR argument. Kept apart so command
modules can import it without importing each other; it imports nothing heavy."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings, load_settings
from ..errors import DigestError

if TYPE_CHECKING:
    from ..store.ledger import SendLedger


class DigestGroup(click.Group):
    """Turns DigestError from any command into a one-line ClickException."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DigestError as exc:
            raise click.ClickException(str(exc)) from None


def settings_from(ctx: click.Context) -> Settings:
    """Settings are loaded lazily so ``--help`` works even with a broken config."""
    obj = ctx.find_root().obj
    if "settings" not in obj:
        path = obj["config_path"]
        if path is not None and not path.is_file():
            raise DigestError(f"{path}: config file not found")
        obj["settings"] = load_settings(path)
    return obj["settings"]


def _issue_dir(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """An issue folder named by a path (``issues/2026-01``) or by its name alone
    (``2026-01``, looked up in ``[paths] issues``); anything else is left for the
    command to report as it was given."""
    given = Path(value)
    if given.is_dir() or len(given.parts) != 1:
        return given
    try:
        found = settings_from(ctx).issues_dir / value
    except DigestError:
        return given  # the command reports the broken config itself
    if not found.is_dir():
        return given
    try:
        return found.relative_to(Path.cwd())
    except ValueError:
        return found


issue_dir_argument = click.argument("issue_dir", metavar="ISSUE", callback=_issue_dir)


class LinkProgress:
    """``check --links`` progress on stderr: one line rewritten in place on a terminal,
    else a line at every tenth of the links, so a long run is never silent."""

    def __init__(self) -> None:
        self.terminal = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        line = f"links: {done} of {total} checked"
        if self.terminal:
            click.echo(f"\r{line}", err=True, nl=done == total)
        elif done == total or done % max(1, total // 10) == 0:
            click.echo(line, err=True)


def ledger_from(ctx: click.Context) -> SendLedger:
    from ..store.engines import ledger_target
    from ..store.ledger import SendLedger

    return SendLedger(ledger_target(settings_from(ctx)))
