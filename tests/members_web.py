"""The members' app on loopback for tests: a real server, a browser-like client, and the
confirmation emails read back from the outbox's real ``.eml`` files."""
from __future__ import annotations

import email
import email.policy
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from digest.members.app import make_public_server
from digest.store.ledger import SendLedger

from .conftest import settings_with

SECRET = "members-web-test-secret"


@dataclass
class App:
    """A running app: its origin, settings, and where its mail and state go."""

    origin: str
    settings: object
    outbox: Path

    def ledger(self) -> SendLedger:
        return SendLedger(self.settings.path("ledger"))

    def member(self, address: str):
        with self.ledger() as ledger:
            return ledger.member(address)

    def confirmations(self, address: str) -> int:
        with self.ledger() as ledger:
            return ledger.db.execute("SELECT COUNT(*) FROM confirmations WHERE email = ?", (address.lower(),)).fetchone()[0]

    def confirmation_email(self, address: str) -> email.message.EmailMessage:
        path = self.outbox / "_confirmations" / f"{address}.eml"
        return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)

    def confirm_path(self, address: str) -> str:
        """The confirmation link of the last email to ``address``, as a path on this app."""
        text = self.confirmation_email(address).get_body(("plain",)).get_content()
        return local(re.search(r"https://\S+/confirm\?t=\S+", text).group(0))


def local(url: str) -> str:
    """A link made for ``[newsletter] base_url``, as a path and query on the test server."""
    parts = urlsplit(url.replace("&amp;", "&"))
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def start(tmp_path: Path, monkeypatch, **overrides) -> tuple[App, object]:
    """Start the app (``web_signups_per_minute=...`` style overrides); returns (app, server)."""
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    settings = settings_with(tmp_path, **overrides)
    server = make_public_server(settings, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return App(f"http://127.0.0.1:{server.server_port}", settings, settings.path("outbox")), server


class Browser:
    """A session that keeps cookies and sends forms with the token its page gave it,
    as a browser does; ``source`` picks the loopback address it connects from."""

    def __init__(self, app: App, source: str | None = None):
        self.app = app
        self.session = requests.Session()
        if source is not None:
            adapter = _SourceAddress(source)
            self.session.mount("http://", adapter)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.app.origin + path, timeout=30, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.session.post(self.app.origin + path, data=data, timeout=30, **kwargs)

    def submit(self, page: requests.Response, path: str, **fields: str) -> requests.Response:
        """POST ``fields`` plus the page's hidden inputs (CSRF token, link token) to ``path``."""
        return self.post(path, {**hidden_fields(page.text), **fields})

    def subscribe(self, address: str, name: str = "", language: str = "en", **extra: str) -> requests.Response:
        form = self.get(f"/subscribe?lang={language}")
        return self.submit(form, "/subscribe", email=address, name=name, language=language, website="", **extra)

    def confirm(self, address: str) -> requests.Response:
        page = self.get(self.app.confirm_path(address))
        return self.submit(page, "/confirm")


def hidden_fields(html: str) -> dict[str, str]:
    return {name: value.replace("&amp;", "&") for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)}


def heading(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)


class _SourceAddress(HTTPAdapter):
    def __init__(self, source: str, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)
