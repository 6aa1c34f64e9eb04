"""A real HTTP server on 127.0.0.1 for the editor's commands: Open Graph pages, hostile
pages, feeds, and links that answer 200, 404, 500, slowly or only to GET.

Routes are plain data (status, headers, body, delay) so each test reads as what the
server does; every request is recorded with its method and headers."""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator



@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    head_status: int | None = None
    stream_bytes: int = 0  # after ``body``, send this many filler bytes without a Content-Length
    drip: float = 0.0  # send ``body`` one byte at a time, this many seconds apart
    header_drip: float = 0.0  # send the status line and headers one byte at a time, this many seconds apart


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client hanging up early (size caps, timeouts) is expected, not an error."""
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Website:
    """The server, its routes and what it has seen; ``url(path)`` gives an absolute URL."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.streamed = 0
        self.stream_done = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                site.seen.append(Seen(self.command, self.path, dict(self.headers)))
                route = site.routes.get(self.path.split("?")[0], Route(404, b"not found", "text/plain"))
                time.sleep(route.delay)
                if route.header_drip:
                    self._drip_headers(route, head)
                    return
                status = route.head_status if head and route.head_status else route.status
                self.send_response(status)
                self.send_header("Content-Type", route.content_type)
                for name, value in route.headers.items():
                    self.send_header(name, value.replace("{base}", site.base))
                if route.stream_bytes:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if not head:
                        self._stream(route)
                    return
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if not head:
                    self._write(route)

            def _write(self, route: Route) -> None:
                if not route.drip:
                    self.wfile.write(route.body)
                    return
                try:
                    for index in range(len(route.body)):
                        self.wfile.write(route.body[index:index + 1])
                        self.wfile.flush()
                        time.sleep(route.drip)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _drip_headers(self, route: Route, head: bool) -> None:
                """A server that never finishes its headers in any reasonable time."""
                raw = (f"HTTP/1.1 {route.status} OK\r\nContent-Type: {route.content_type}\r\n"
                       f"X-Padding: {'p' * 200}\r\nContent-Length: {len(route.body)}\r\n\r\n").encode("ascii")
                self.close_connection = True
                try:
                    for index in range(len(raw)):
                        self.wfile.write(raw[index:index + 1])
                        self.wfile.flush()
                        time.sleep(route.header_drip)
                    if not head:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, route: Route) -> None:
                try:
                    self.wfile.write(route.body)
                    chunk = b"<p>" + b"x" * 65_530 + b"</p>"
                    while site.streamed < route.stream_bytes:
                        self.wfile.write(chunk)
                        site.streamed += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    self.close_connection = True
                    site.stream_done.set()

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, **route) -> str:
        self.routes[path] = Route(**route)
        return self.url(path)

    def add_page(self, path: str, html: str, **route) -> str:
        return self.add(path, body=html.encode("utf-8"), **route)


@contextmanager
def running_website() -> Iterator[Website]:
    """A started Website, shut down on exit (test modules wrap this in a fixture)."""
    site = Website()
    site.thread.start()
    try:
        yield site
    finally:
        site.server.shutdown()
        site.server.server_close()
