"""Serving and publishing: the staff ``preview``, the static ``archive`` and the
public unsubscribe app (``serve-unsubscribe``)."""
from __future__ import annotations

from pathlib import Path

import click

from .support import settings_from


@click.command()
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
    from ..preview import create_server, is_loopback, listen_address

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


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site into (default: build/site/).")
@click.pass_context
def archive(ctx: click.Context, out_dir: Path | None) -> None:
    """Build the static web archive: an index of every issue, one page each, and an Atom feed.

    Example:

        digest archive --out build/site
    """
    from ..site.archive import build_archive

    result = build_archive(settings_from(ctx), out_dir)
    click.echo(f"{result.out_dir}: {len(result.entries)} issue(s), index.html and feed.xml")
    for slug in result.drafts:
        click.echo(f"left out draft {slug}", err=True)


@click.command("serve-unsubscribe")
@click.option("--host", help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: [web] port).")
@click.pass_context
def serve_unsubscribe(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the unsubscribe web app locally (any WSGI server can run digest.web:app instead).

    Example:

        digest serve-unsubscribe --port 8026
    """
    from ..members.tokens import unsubscribe_secret
    from ..members.web import make_unsubscribe_server

    settings = settings_from(ctx)
    unsubscribe_secret(settings, required=True, create=True)  # .digest/secret, as outbox and --test sends use
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
