"""The unsubscribe endpoint: a small WSGI app any WSGI server can run.

Link scanners follow every GET in a message, so GET only shows a confirmation page
with a button; a POST unsubscribes: either the RFC 8058 one-click POST a mail client
sends (``List-Unsubscribe=One-Click``, form-encoded or multipart, no cookies) or the
page's own form, which posts the same field. The address goes into the ledger's
suppression list, fsynced, before the answer (200, no redirect). The link carries one
sealed token (``?token=``, see ``tokens.py``) that holds the list and the address; a
token that does not open with our secret, or names another list, gets 400 and changes
nothing. Links from before tokens were sealed (``?list=..&email=..&token=HMAC``) are
still honoured.

Pages speak the member's language: the ``lang`` the email's link carries (the
edition they were sent), else the browser's Accept-Language, else the newsletter's;
the strings come from the same catalogs as the email's.

``app`` loads settings from config.toml and the environment on its first request;
``make_app(settings)`` builds one directly and refuses to start without the secret.
"""
from __future__ import annotations

import email.parser
import email.policy
import html
import socketserver
import threading
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ..addresses import is_valid_address
from ..config import Settings, load_settings
from ..errors import LedgerError
from ..i18n import catalog_languages, match_language, negotiate, translations
from ..store.engines import ledger_target
from ..store.ledger import SendLedger
from .tokens import list_id_for, unsubscribe_base, unsubscribe_secret, verify_legacy_token, verify_token

ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"
LINK_FIELDS = ("token", "list", "email")  # "list" and "email" only in legacy links
MAX_BODY_BYTES = 16 * 1024

StartResponse = Callable[..., Any]

# The page carries the token in its URL: keep it out of caches and Referer headers.
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
]


class UnsubscribeApp:
    """The WSGI callable; thread-safe, since each request opens its own ledger connection."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.secret = unsubscribe_secret(settings, required=True)
        self.list_id = list_id_for(settings)
        self.ledger_path = ledger_target(settings)
        self.path = urlsplit(unsubscribe_base(settings)).path.rstrip("/") or "/"
        self.languages = tuple(dict.fromkeys([settings.newsletter.language, *catalog_languages(settings.locale_dir)]))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).rstrip("/") or "/"
        language = self.language(environ)
        _ = translations(self.settings.locale_dir, language).gettext

        def respond(status: str, title: str, text: str, extra: list[tuple[str, str]] | None = None, form: str = "") -> Iterable[bytes]:
            return self._page(start_response, status, title, text, extra, form, language)

        if path != self.path:
            return respond("404 Not Found", _("Not found"), _("There is nothing at this address."))
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            return self._confirm(environ, respond, _)
        if method == "POST":
            return self._unsubscribe(environ, respond, _)
        return respond("405 Method Not Allowed", _("Not allowed"), _("Use the link in the email."), [("Allow", "GET, POST")])

    def language(self, environ: dict[str, Any]) -> str:
        """The link's ``lang``, else the browser's preference, else the newsletter's language."""
        named = match_language(_query(environ).get("lang", ""), self.languages, "")
        return named or negotiate(environ.get("HTTP_ACCEPT_LANGUAGE", ""), self.languages) or self.languages[0]

    def _confirm(self, environ: dict[str, Any], respond: Callable[..., Iterable[bytes]], _: Callable[[str], str]) -> Iterable[bytes]:
        fields = _query(environ)
        address = self._member(fields)
        if address is None:
            return self._invalid(respond, _)
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (*((k, fields[k]) for k in LINK_FIELDS if k in fields), (ONE_CLICK_FIELD, ONE_CLICK_VALUE))
        )
        # No action attribute: the form posts back to this very URL, query string and all.
        form = f'<form method="post">{hidden}<button type="submit">{html.escape(_("Unsubscribe"))}</button></form>'
        text = html.escape(_("Stop sending %(newsletter)s to %(address)s?")) % {
            "newsletter": html.escape(self.settings.newsletter.name), "address": f"<strong>{html.escape(address)}</strong>"}
        return respond("200 OK", _("Unsubscribe"), text, form=form)

    def _unsubscribe(self, environ: dict[str, Any], respond: Callable[..., Iterable[bytes]], _: Callable[[str], str]) -> Iterable[bytes]:
        try:
            form = _form(environ)
        except ValueError as exc:
            return respond("400 Bad Request", _("Bad request"), html.escape(str(exc)))
        fields = {**_query(environ), **{k: v for k, v in form.items() if k in LINK_FIELDS}}
        address = self._member(fields)
        if form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE or address is None:
            return self._invalid(respond, _)
        try:
            with SendLedger(self.ledger_path) as ledger:
                ledger.suppress(address, "unsubscribe", "web")
        except LedgerError:  # a shared ledger's server is down: nothing recorded, so ask for a retry
            return respond("503 Service Unavailable", _("Please try again"),
                           html.escape(_("Your unsubscribe could not be recorded just now. Please try again in a minute.")),
                           [("Retry-After", "60")])
        text = html.escape(_("%(address)s will get no more email from %(newsletter)s.")) % {
            "address": f"<strong>{html.escape(address)}</strong>", "newsletter": html.escape(self.settings.newsletter.name)}
        return respond("200 OK", _("You are unsubscribed"), text)

    def _member(self, fields: dict[str, str]) -> str | None:
        """The address a genuine link for this list names, or None. A sealed token
        carries list and address; a legacy link names them beside its HMAC."""
        token = fields.get("token", "")
        if "email" in fields:
            address = fields["email"]
            genuine = fields.get("list") == self.list_id and verify_legacy_token(self.secret, self.list_id, address, token)
        else:
            payload = verify_token(self.secret, token, self.list_id)
            address, genuine = (payload or {}).get("email", ""), payload is not None
        return address.strip().lower() if genuine and is_valid_address(address) else None

    def _invalid(self, respond: Callable[..., Iterable[bytes]], _: Callable[[str], str]) -> Iterable[bytes]:
        return respond("400 Bad Request", _("Link not valid"),
                       html.escape(_("This unsubscribe link is incomplete or was changed. Please use the link from the email as it is.")))

    def _page(self, start_response: StartResponse, status: str, title: str, text: str,
              extra_headers: list[tuple[str, str]] | None = None, body_extra: str = "", language: str = "") -> Iterable[bytes]:
        theme = self.settings.theme
        language = language or self.settings.newsletter.language
        body = (
            f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head>"
            f'<body style="margin:0;background:{html.escape(theme.background)};color:{html.escape(theme.text)};font-family:{html.escape(theme.font_stack)}">'
            f'<main style="max-width:480px;margin:48px auto;padding:24px;background:{html.escape(theme.card)}">'
            f"<h1>{html.escape(title)}</h1><p>{text}</p>{body_extra}</main></body></html>"
        ).encode("utf-8")
        start_response(status, [*HEADERS, ("Content-Language", language), ("Vary", "Accept-Language"),
                                ("Content-Length", str(len(body))), *(extra_headers or [])])
        return [body]


def make_app(settings: Settings) -> UnsubscribeApp:
    """The app for these settings; ConfigError if the signing secret is not set."""
    return UnsubscribeApp(settings)


class LazyApp:
    """A module-level ``app`` for WSGI servers: ``make`` builds the real one from the
    settings (config.toml and the environment) on the first request, not at import."""

    def __init__(self, make: Callable[[Settings], Callable[..., Iterable[bytes]]]) -> None:
        self._make = make
        self._app: Callable[..., Iterable[bytes]] | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self._lock:
            if self._app is None:
                self._app = self._make(load_settings())
        return self._app(environ, start_response)


class _LazyApp(LazyApp):
    """The unsubscribe app alone, lazily (the public app in ``app.py`` includes it)."""

    def __init__(self) -> None:
        super().__init__(make_app)


app = _LazyApp()


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request, so a slow client holds up nobody."""

    daemon_threads = True
    # socketserver's default backlog of 5 resets connections when a burst of one-click
    # POSTs arrives at once (mailbox providers send them in bursts after a campaign).
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    """Logs method, path and status, never the query string (it holds the member's token)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log_message('"%s %s" %s', self.command, urlsplit(self.path).path, code)


def make_unsubscribe_server(settings: Settings, host: str, port: int) -> ThreadingWSGIServer:
    """A threaded wsgiref server running the app (port 0 picks a free port)."""
    return make_server(host, port, make_app(settings), server_class=ThreadingWSGIServer, handler_class=_QuietHandler)


def _query(environ: dict[str, Any]) -> dict[str, str]:
    return _single(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def _form(environ: dict[str, Any]) -> dict[str, str]:
    """The POST body as fields: form-encoded or multipart/form-data, as RFC 8058 allows."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ValueError("bad Content-Length") from None
    if length > MAX_BODY_BYTES:
        raise ValueError("request body too large")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return _multipart(body, content_type)
    return _single(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))


def _multipart(body: bytes, content_type: str) -> dict[str, str]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name and name not in fields:
            fields[str(name)] = part.get_payload(decode=True).decode("utf-8", "replace")
    return fields


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    """The first value of each field: a repeated field cannot smuggle a second address."""
    return {key: items[0] for key, items in values.items()}
