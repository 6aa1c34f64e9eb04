"""Serving and publishing: the staff ``preview``, the static ``archive`` and the
public members' app (``serve``; ``serve-unsubscribe`` is its earlier name)."""
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


def _serve_command(name: str, summary: str, hidden: bool = False) -> click.Command:
    @click.command(name, hidden=hidden, help=summary + """

    Sign-up (/subscribe), confirmation (/confirm), preferences (/preferences) and
    one-click unsubscribe (/unsubscribe), on 127.0.0.1 only; in production run
    digest.web:app under any WSGI server (gunicorn) behind an HTTPS proxy.

    Example:

        digest serve --port 8026
    """)
    @click.option("--host", help="Loopback address to listen on (default: [web] host, 127.0.0.1).")
    @click.option("--port", type=click.IntRange(0, 65535), help="Port to listen on (default: [web] port; 0 picks a free one).")
    @click.pass_context
    def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
        from ..members.app import make_public_server
        from ..members.tokens import unsubscribe_secret
        from ..preview import is_loopback

        settings = settings_from(ctx)
        web = settings.table("web")
        host = host or str(web["host"])
        if not is_loopback(host):
            raise click.ClickException(f"{host} is not a loopback address: digest serve listens on 127.0.0.1 only; "
                                       "in production run digest.web:app under a WSGI server behind a proxy")
        unsubscribe_secret(settings, required=True, create=True)  # .digest/secret, as outbox and --test sends use
        try:
            server = make_public_server(settings, host, int(web["port"]) if port is None else port)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        bound_host, bound_port = server.server_address[:2]
        subscribe = server.get_app().site.paths.subscribe
        click.echo(f"Members' pages on http://{bound_host}:{bound_port}{subscribe} (Ctrl-C stops it)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    return serve


serve = _serve_command("serve", "Run the public members' app locally until Ctrl-C.")
serve_unsubscribe = _serve_command("serve-unsubscribe", "The same as digest serve (its earlier name).")
