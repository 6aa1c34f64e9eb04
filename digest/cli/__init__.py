"""The ``digest`` command: a thin shell over the library.

Commands live in one module per group of work (``authoring``: new, add, pull, check,
build; ``arranging``: item mv/rm/undraft, section rename; ``sending``: send (``workers``:
its shared sends); ``status``; ``deliverability``: doctor; ``members``: members, suppress,
bounces; ``site``: preview, archive, serve and its alias serve-unsubscribe). Each parses
its arguments, calls one library function and prints the result, importing that
machinery only when it runs, so start-up stays fast.
A ``DigestError`` becomes one line on stderr and exit status 1 (2 for usage errors,
from click); anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from . import arranging, authoring, deliverability, members, sending, site, status
from .support import DigestGroup


@click.group(cls=DigestGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="DIGEST_CONFIG",
              help="config.toml to use (default: the nearest one at or above the current folder).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Build, preview and send newsletter issues kept as files."""
    ctx.obj = {"config_path": config_path}


for command in (authoring.new, authoring.add, authoring.pull, authoring.check, authoring.build,
                arranging.item, arranging.section, sending.send, status.status, deliverability.doctor,
                members.members, members.suppress, members.bounces,
                site.preview, site.archive, site.serve, site.serve_unsubscribe):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="digest")


if __name__ == "__main__":
    sys.exit(main())
