"""The preview's HTTP side: a small router over ``PreviewState`` on the stdlib server.

It serves only pages it renders: a path is split into segments and an issue is
addressed by a slug that must equal the name of an existing issue folder, so no part
of a URL ever becomes a filesystem path; a language segment (``/issues/2015-10/ja/``)
must name one of the issue's editions. Pages poll ``.../version`` and reload when it
changes (polling rather than server-sent events: no long-lived connections, so each
request thread ends at once and shutdown is immediate).
"""
from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

import jinja2

from ..config import Settings
from ..i18n import is_language_tag
from .state import EditionPreview, IssuePreview, PreviewState

POLL_MILLISECONDS = 400
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def page_environment() -> jinja2.Environment:
    """The preview UI's own templates ship inside the package: templates/ is the
    editor's email theme, and the preview must work while that theme is broken."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("digest.preview", "pages"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["url"] = lambda text: quote(str(text), safe="")
    return env


class PreviewApp:
    """Maps a request path to a Response; every branch is a page this module renders."""

    def __init__(self, state: PreviewState):
        self.state = state
        self.pages = page_environment()
        self.issue_routes: dict[str, Callable[[IssuePreview, EditionPreview | None], Response]] = {
            "": self.issue_page,
            "email.html": lambda p, e: self.email(p, e and e.html),
            "email-dark.html": lambda p, e: self.email(p, e and e.dark_html),
            "email.txt": lambda p, e: self.email(p, e and e.text, "text/plain; charset=utf-8"),
        }

    def respond(self, raw_path: str) -> Response:
        if not raw_path.startswith("/") or raw_path.startswith("//"):
            return self.not_found()
        self.state.refresh_settings()
        segments = [unquote(part) for part in urlsplit(raw_path).path[1:].split("/")]
        if segments in ([""], ["index.html"]):
            return self.index()
        if segments == ["version"]:
            return self.text(self.state.version())
        if len(segments) in (2, 3, 4) and segments[0] == "issues" and segments[1] in self.state.slugs():
            slug, rest = segments[1], segments[2:] or [""]
            if rest == ["version"]:
                return self.text(self.state.version(slug))
            language = rest[0] if len(rest) == 2 else None
            if rest[-1] in self.issue_routes and (language is None or is_language_tag(language)):
                preview = self.state.preview(slug)
                edition = preview.edition(language)
                if language is not None and edition is None and preview.error is None:
                    return self.not_found()
                return self.issue_routes[rest[-1]](preview, edition)
        return self.not_found()

    def index(self) -> Response:
        version = self.state.version()
        previews = [self.state.preview(slug) for slug in self.state.slugs()]
        return self.render("index.html", version=version, version_url="/version", previews=previews)

    def issue_page(self, preview: IssuePreview, edition: EditionPreview | None) -> Response:
        return self.render("issue.html", version=preview.version, version_url=f"/issues/{quote(preview.slug, safe='')}/version",
                           p=preview, e=edition)

    def email(self, preview: IssuePreview, body: str | None, content_type: str = "text/html; charset=utf-8") -> Response:
        if preview.error is not None or body is None:
            return self.render("error.html", status=HTTPStatus.SERVICE_UNAVAILABLE, message=preview.error or "Not found")
        # The email never needs script; forbid it so nothing in an item can run here.
        return Response(200, body.encode("utf-8"), content_type, {"Content-Security-Policy": "script-src 'none'"})

    def render(self, name: str, status: int = 200, **context: object) -> Response:
        context.setdefault("version", "")
        context.setdefault("version_url", "")
        context.update(state=self.state, poll_ms=POLL_MILLISECONDS)
        return Response(status, self.pages.get_template(name).render(context).encode("utf-8"))

    def text(self, value: str) -> Response:
        return Response(200, value.encode("ascii"), "text/plain; charset=utf-8")

    def not_found(self) -> Response:
        return self.render("error.html", status=HTTPStatus.NOT_FOUND, message="Not found")


class PreviewHandler(BaseHTTPRequestHandler):
    server: "PreviewServer"
    server_version = "digest-preview"

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)

    def _send(self, head_only: bool) -> None:
        if not self.server.host_allowed(self.headers.get("Host", "")):
            response = Response(HTTPStatus.MISDIRECTED_REQUEST, b"Unexpected Host header", "text/plain; charset=utf-8")
        else:
            response = self.server.app.respond(self.path)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a page polls several times a second."""


class PreviewServer(ThreadingHTTPServer):
    """The stdlib threading server with the app attached; ``serve_in_thread`` for tests."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: PreviewApp):
        super().__init__(address, PreviewHandler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host if ':' not in host else f'[{host}]'}:{port}/"

    def host_allowed(self, host_header: str) -> bool:
        """On loopback, refuse other Host names, so a web page cannot reach the
        preview through DNS rebinding."""
        host = self.server_address[0]
        if not is_loopback(host):
            return True
        name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        return name.lower() in LOOPBACK_NAMES | {host}

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="digest-preview", daemon=True)
        thread.start()
        return thread


def listen_address(settings: Settings, host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """``host`` and ``port``, or [preview] host and port from config (127.0.0.1 by default)."""
    preview = settings.table("preview")
    return (host if host is not None else str(preview["host"]), port if port is not None else int(preview["port"]))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def create_server(settings: Settings, host: str | None = None, port: int | None = None, member: str | None = None) -> PreviewServer:
    """A preview server bound to ``listen_address`` (port 0 picks a free one); ``member``
    is an address from the members file to personalise for. Raises OSError if it cannot bind."""
    state = PreviewState(settings, member)
    return PreviewServer(listen_address(settings, host, port), PreviewApp(state))
