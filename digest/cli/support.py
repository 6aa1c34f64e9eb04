"""What every ``digest`` command shares: the error-to-one-line group, lazily loaded
settings, the ledger, and the common ISSUE_DIR argument. Kept apart so command
modules can import it without importing each other; it imports nothing heavy."""
from __future__ import annotations

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


issue_dir_argument = click.argument("issue_dir", type=click.Path(path_type=Path))


def ledger_from(ctx: click.Context) -> SendLedger:
    from ..store.engines import ledger_target
    from ..store.ledger import SendLedger

    return SendLedger(ledger_target(settings_from(ctx)))
