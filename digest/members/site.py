"""What every members' page shares: settings, tokens, languages, limits, the mailer, and
the one way a page is rendered (``templates/pages/``, autoescaped, in one language).

Pages are Jinja templates in the editor's theme folder, translated through the same
gettext catalogs as the email (``locale/<lang>/LC_MESSAGES/digest.po``). Handlers name
what a page says by code (``title="check_inbox_title"``); ``pages/messages.html`` holds
the words. Pages also get ``newsletter``, ``theme``, ``paths`` (our routes, path only),
``languages``, ``csrf`` (the form token for this browser) and a per-response CSP
``nonce`` for their one stylesheet. No page uses JavaScript.
"""
from __future__ import annotations

import queue
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ContextManager, Iterator
from urllib.parse import quote, urlsplit

from ..config import Settings
from ..errors import TemplateError
from ..i18n import catalog_languages, language_name, match_language, negotiate, translations
from ..render.templates import language_context, make_environment, render_template
from ..store.engines import ledger_target
from ..store.ledger import SendLedger
from .confirmation import ConfirmationMailer
from .http import CSRF_COOKIE, Request, Response, csrf_cookie_header
from .limits import RateLimiter
from .member_tokens import TokenSealer

NAME_MAX = 100  # characters


@dataclass(frozen=True)
class Paths:
    """The pages' paths under ``[newsletter] base_url`` (path only, for links and forms)."""

    subscribe: str
    confirm: str
    preferences: str

    @classmethod
    def under(cls, base_url: str) -> "Paths":
        prefix = urlsplit(base_url).path.rstrip("/")
        return cls(f"{prefix}/subscribe", f"{prefix}/confirm", f"{prefix}/preferences")


class LedgerPool:
    """A few store connections, opened one after another when the app starts and lent to
    one request at a time. Opening a connection runs the schema statements, which under a
    burst of sign-ups would contend for SQLite's lock; and writes queue for that lock
    anyway, so a handful of connections serves any number of request threads."""

    def __init__(self, target: str | Path, size: int = 4):
        self._free: queue.LifoQueue[SendLedger] = queue.LifoQueue()
        for _ in range(size):
            self._free.put(SendLedger(target))

    @contextmanager
    def connection(self) -> Iterator[SendLedger]:
        ledger = self._free.get()
        try:
            yield ledger
        finally:
            self._free.put(ledger)


class Site:
    """Everything a page handler needs; built once per app, shared by its threads."""

    def __init__(self, settings: Settings, secret: str):
        web = settings.table("web")
        self.settings = settings
        self.sealer = TokenSealer(secret)
        self.languages = tuple(dict.fromkeys([settings.newsletter.language, *catalog_languages(settings.locale_dir)]))
        self.mailer = ConfirmationMailer(settings, secret, self.languages)
        self.limiter = RateLimiter(int(web["signups_per_minute"]), 60.0)
        self.interval = float(web["confirmation_interval"])
        self.hours = float(web["confirm_hours"])
        self.trust_forwarded = bool(web["trust_forwarded"])
        self.ledgers = LedgerPool(ledger_target(settings))
        self.paths = Paths.under(settings.newsletter.base_url)
        self.env = make_environment(settings.templates_dir)
        self.env.globals["unknown_message"] = _unknown_message

    def ledger(self) -> ContextManager[SendLedger]:
        """A store connection for the length of a ``with`` block, lent by the pool."""
        return self.ledgers.connection()

    def preferences_path(self, email: str, done: str = "") -> str:
        """The member's preference page as a path on this site (pages link within the site)."""
        token = quote(self.sealer.preferences_token(email), safe="")
        return f"{self.paths.preferences}?t={token}" + (f"&done={done}" if done else "")

    def csrf_ok(self, request: Request, form: dict[str, str]) -> bool:
        """The form came from our page in this browser: its token matches the cookie."""
        if request.cross_site:
            return False
        return self.sealer.form_token_matches(request.cookies.get(CSRF_COOKIE, ""), form.get("csrf", ""))

    def match(self, tag: str) -> str | None:
        """The page language for a BCP 47 tag (``ja-JP`` -> ``ja``), or None."""
        return match_language(tag, self.languages, "") or None

    def language_for(self, request: Request, *choices: str) -> str:
        """The first of ``choices`` we speak, else the browser's Accept-Language, else the newsletter's."""
        for choice in choices:
            if choice and self.match(choice):
                return self.match(choice)  # type: ignore[return-value]
        return negotiate(request.accept_language, self.languages) or self.languages[0]

    def render(self, request: Request, template: str, language: str, title: str, status: str = "200 OK",
               headers: list[tuple[str, str]] | None = None, **context: Any) -> Response:
        """A page in ``language``; ``title`` is the code of its heading (pages/messages.html)."""
        nonce = secrets.token_urlsafe(16)
        body = render_template(self.env, f"pages/{template}", {
            **language_context(translations(self.settings.locale_dir, language), language),
            "title": title,
            "newsletter": self.settings.newsletter,
            "theme": self.settings.theme,
            "paths": self.paths,
            "languages": [(code, language_name(code)) for code in self.languages],
            "csrf": self.sealer.form_token(request.csrf_cookie),
            "nonce": nonce,
            "hours": f"{self.hours:g}",
            "name_max": NAME_MAX,
            "notice": "",
            "error": "",
            **context,
        })
        return Response(status, body, [*csrf_cookie_header(request), ("Vary", "Accept-Language"), *(headers or [])],
                        nonce=nonce, language=language)

    def message(self, request: Request, language: str, title: str, text: str, status: str = "200 OK",
                link: tuple[str, str] | None = None, headers: list[tuple[str, str]] | None = None,
                **values: str) -> Response:
        """A page that only says something: ``title`` and ``text`` are codes, ``values``
        what the text fills in, ``link`` an (href, code) pair."""
        return self.render(request, "message.html", language, title, status, headers, text=text, values=values, link=link)


def _unknown_message(code: str) -> str:
    raise TemplateError(f"pages/messages.html has no message {code!r}")
