"""The public WSGI app: sign-up, confirmation, preferences and one-click unsubscribe.

A small router in front of one handler per page (``signup.py``, ``preferences.py``)
and the unsubscribe endpoint (``web.py``), all under ``[newsletter] base_url``'s path.
Only GET and POST are answered; anything else is 404 or 405, with the same safe
headers. ``digest.web:app`` is this app, built from config.toml and the environment
on its first request; ``digest serve`` runs it on 127.0.0.1 with wsgiref.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, make_server

from ..config import Settings
from ..members.tokens import unsubscribe_secret
from .http import BodyTooLarge, Request, Response, StartResponse
from .preferences import preferences_page
from .signup import confirm_page, subscribe_page
from .site import Site
from .web import LazyApp, ThreadingWSGIServer, UnsubscribeApp

Handler = Callable[[Site, Request], Response]


class PublicApp:
    """The WSGI callable; thread-safe (each request opens its own store connection)."""

    def __init__(self, settings: Settings):
        secret = unsubscribe_secret(settings, required=True)
        self.site = Site(settings, secret)
        self.unsubscribe = UnsubscribeApp(settings)
        paths = self.site.paths
        self.routes: dict[str, Handler] = {paths.subscribe: subscribe_page, paths.confirm: confirm_page,
                                           paths.preferences: preferences_page}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ, self.site.trust_forwarded)
        if request.path == self.unsubscribe.path:
            return self.unsubscribe(environ, start_response)
        handler = self.routes.get(request.path)
        language = self.site.language_for(request)
        if handler is None:
            return self._plain("404 Not Found", "Not found").send(start_response)
        if request.method not in ("GET", "POST"):
            return self._plain("405 Method Not Allowed", "Method not allowed", [("Allow", "GET, POST")]).send(start_response)
        try:
            response = handler(self.site, request)
        except BodyTooLarge:
            response = self.site.message(request, language, "too_large_title", "too_large_text", "413 Content Too Large")
        return response.send(start_response)

    @staticmethod
    def _plain(status: str, text: str, headers: list[tuple[str, str]] | None = None) -> Response:
        body = f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{text}</title><h1>{text}</h1></html>"
        return Response(status, body, headers or [])


def make_public_app(settings: Settings) -> PublicApp:
    """The app for these settings; ConfigError if the signing secret is missing."""
    return PublicApp(settings)


class LazyPublicApp(LazyApp):
    """The public app, lazily: what ``digest.web:app`` names."""

    def __init__(self) -> None:
        super().__init__(make_public_app)


app = LazyPublicApp()


class _PathOnlyHandler(WSGIRequestHandler):
    """Logs method, path and status, never the query string (it holds tokens)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log_message('"%s %s" %s', self.command, urlsplit(self.path).path, code)


def make_public_server(settings: Settings, host: str, port: int) -> ThreadingWSGIServer:
    """A threaded wsgiref server running the app (port 0 picks a free port)."""
    return make_server(host, port, make_public_app(settings), server_class=ThreadingWSGIServer,
                       handler_class=_PathOnlyHandler)
