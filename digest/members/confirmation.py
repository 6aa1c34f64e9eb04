"""The confirmation email: rendered once per language, sent through the configured backend.

It is made like an issue (``templates/confirm.mjml``, ``confirm.txt`` and
``confirm_subject.txt`` through Jinja and the gettext catalogs,
MRML and premailer, the member's name and link as slots), so every backend sends it
exactly as it sends issues, and a sign-up costs a merge, not a render. In the outbox it
lands in ``<outbox>/_confirmations/<address>.eml``.
"""
from __future__ import annotations

import datetime as dt
import re
import threading

from ..config import Settings
from ..content import Issue
from ..errors import DeliveryError
from ..i18n import match_language, translations
from ..render.email import compile_mjml, inline_css
from ..render.issue import UNSUBSCRIBE_FIELD, RenderedIssue, build_environment
from ..render.mime import MessageFactory
from ..render.slots import MemberSlots, Slot, SlotTable
from ..render.templates import language_context, render_template

MJML_TEMPLATE, TEXT_TEMPLATE, SUBJECT_TEMPLATE = "confirm.mjml", "confirm.txt", "confirm_subject.txt"
SLUG = "_confirmations"
CONFIRM_FIELD = "confirm_url"


class ConfirmationMailer:
    """Sends confirmation emails; thread-safe, one render per language on first use."""

    def __init__(self, settings: Settings, secret: str, languages: tuple[str, ...]):
        self.settings = settings
        self.secret = secret
        self.languages = languages
        self.hours = settings.table("web")["confirm_hours"]
        self._factories: dict[str, MessageFactory] = {}
        self._lock = threading.Lock()

    def send(self, address: str, name: str, language: str, confirm_url: str) -> None:
        """Deliver one confirmation; DeliveryError if the backend did not accept it."""
        from ..delivery.backends import get_backend

        message = self.factory(language).personalise(address, name, {CONFIRM_FIELD: confirm_url})
        with get_backend(self.settings) as backend:
            result = backend.send_batch([message])[0]
        if not result.status.delivered:
            raise DeliveryError(f"confirmation not accepted ({result.status.value})", address, result.reason)

    def factory(self, language: str) -> MessageFactory:
        language = match_language(language, self.languages, self.languages[0])
        with self._lock:
            if language not in self._factories:
                rendered = render_confirmation(self.settings, language, self.hours)
                self._factories[language] = MessageFactory(rendered, self.settings, self.secret, subject=rendered.subject)
            return self._factories[language]


def render_confirmation(settings: Settings, language: str, hours: float) -> RenderedIssue:
    """The confirmation email in ``language`` with the member's name and link as slots."""
    env = build_environment(settings)
    table = SlotTable()
    context = {
        **language_context(translations(settings.locale_dir, language), language),
        "newsletter": settings.newsletter,
        "theme": settings.theme,
        "hours": f"{hours:g}",
        "member": MemberSlots(table),
        "confirm_url": table.token(Slot("{" + CONFIRM_FIELD + "}")),
        UNSUBSCRIBE_FIELD: table.token(Slot("{" + UNSUBSCRIBE_FIELD + "}")),
    }
    subject = " ".join(render_template(env, SUBJECT_TEMPLATE, context).split())
    context["subject"] = subject
    html = inline_css(compile_mjml(render_template(env, MJML_TEMPLATE, context), MJML_TEMPLATE))
    text = render_template(env, TEXT_TEMPLATE, context)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines())).strip("\n") + "\n"
    issue = Issue(slug=SLUG, path=settings.templates_dir / MJML_TEMPLATE, title=subject, date=dt.date.today(),
                  subject=subject, sections=())
    return RenderedIssue(issue=issue, subject=subject, html=table.split(html), text=table.split(text),
                         slots=tuple(table.slots), web_url="", language=language)
