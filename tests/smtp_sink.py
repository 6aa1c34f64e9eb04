"""A real SMTP server (aiosmtpd) on loopback that records what it receives and can be
told to refuse, close or drop the connection for chosen recipients."""
from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    recipient: str
    message_id: str
    raw: bytes
    peer: tuple
    at: float = 0.0  # time.monotonic() when the message was accepted

    def parsed(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)


@dataclass
class SinkHandler:
    """Scripted replies: ``replies[address]`` is a list of RCPT replies used in turn
    (then 250); an address in ``drop_in_data`` has its connection closed mid-DATA once."""

    received: list[Received] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)
    drop_in_data: set[str] = field(default_factory=set)
    rcpt_attempts: Counter = field(default_factory=Counter)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_attempts[address] += 1
            scripted = self.replies.get(address)
            if scripted:
                return scripted.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        recipient = envelope.rcpt_tos[0]
        if recipient in self.drop_in_data:
            self.drop_in_data.discard(recipient)
            server.transport.close()
            return "421 dropped by the test"
        content = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(content, policy=email.policy.compat32)
        with self.lock:
            self.received.append(Received(recipient, str(parsed["Message-ID"]), content, session.peer, time.monotonic()))
        return "250 2.0.0 Ok: queued"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"digest", b"s3cret")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    @property
    def count(self) -> int:
        return len(self.received)

    @property
    def connections(self) -> int:
        return len({r.peer for r in self.received})

    def recipients(self) -> Counter:
        return Counter(r.recipient for r in self.received)


def start_sink(handler: SinkHandler, **smtp_options) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_options)
    controller.start()
    return controller


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 made with the openssl command, or None."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
