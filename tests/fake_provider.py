"""A mail provider's HTTP API on loopback, for backend tests.

The server records every request, checks it against the provider's documented format
(a ``check`` function returning the problems it finds) and answers 400 with the problems
when the request is wrong, so a backend that sends a wrong request fails its test.
Otherwise it answers with the next queued ``Reply``, or what ``answer`` makes of the
request. Nothing here is our code: it is the other side of the wire.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> list[tuple[str, str]]:
        """multipart/form-data fields in order, as (name, value)."""
        head = f"Content-Type: {self.header('Content-Type')}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        if not message.is_multipart():
            raise ValueError("not multipart/form-data")
        return [(part.get_param("name", header="content-disposition"), part.get_payload(decode=True).decode("utf-8"))
                for part in message.iter_parts()]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeProvider:
    def __init__(self, check: Callable[[Request], list[str]], answer: Callable[[Request], Reply]):
        self.check = check
        self.answer = answer
        self.requests: list[Request] = []
        self.problems: list[str] = []
        self.queued: list[Reply] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                try:
                    self.send(provider.handle(request))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout tests)

            def send(self, reply: Reply) -> None:
                body = reply.body if isinstance(reply.body, (bytes, str)) else json.dumps(reply.body)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(reply.status)
                for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def handle(self, request: Request) -> Reply:
        self.requests.append(request)
        try:
            problems = self.check(request)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems = [f"unreadable request: {type(exc).__name__}: {exc}"]
        if problems:
            self.problems += problems
            return Reply(400, {"problems": problems})
        return self.queued.pop(0) if self.queued else self.answer(request)

    def start(self) -> "FakeProvider":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
