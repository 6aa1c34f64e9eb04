"""Render an issue once per language: the email HTML and text with member slots, and
the public web page.

This is the expensive step (Jinja, MJML, CSS inlining) and it runs once per issue and
language (an *edition*), never per member; ``RenderedIssue.personalise`` is the cheap
per-member step. Each edition renders the issue as ``localise`` gives it for that
language, with that language's catalog, dates and direction.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any, Mapping

import jinja2
from jinja2 import pass_context

from ..config import Settings
from ..content import Issue
from ..content.translations import FALLBACKS, localise
from ..errors import ConfigError
from ..i18n import language_name, translations
from .email import compile_mjml, inline_css
from .flowed import tidy, to_flowed
from .markdown import LinkNotes, markdown_to_text, text_width, wrap_text
from .slots import MemberSlots, PublicMember, Slot, SlotTable, SlotText, escape_html
from .templates import language_context, make_environment, render_template

EMAIL_TEMPLATE = "email.mjml"
TEXT_TEMPLATE = "email.txt"
UNSUBSCRIBE_FIELD = "unsubscribe_url"
PREFERENCES_FIELD = "preferences_url"


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once, ready to be personalised per member."""

    issue: Issue  # localised: its text is in ``language`` where the editor wrote it
    subject: str
    html: SlotText
    text: SlotText
    slots: tuple[Slot, ...]
    web_url: str
    language: str = "en"

    def slot_values(self, fields: Mapping[str, str]) -> list[str]:
        return [slot.value(fields) for slot in self.slots]

    def personalise(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """HTML and text for one member; ``fields`` holds the member's columns,
        ``unsubscribe_url`` and ``preferences_url``. Values are HTML-escaped in the HTML part."""
        values = self.slot_values(fields)
        return self.html.merge(values, escape_html), self.text.merge(values)

    def largest_html_bytes(self, fields: Mapping[str, str]) -> int:
        return len(self.personalise(fields)[0].encode("utf-8"))


@dataclass(frozen=True)
class Alternate:
    """The same issue in another language, for ``hreflang`` links and the language switch."""

    language: str
    name: str  # in its own language: "English", "日本語"
    url: str  # absolute
    href: str  # relative to the page that links to it
    current: bool


def issue_languages(issue: Issue, settings: Settings) -> tuple[str, ...]:
    """The languages an issue is rendered in, default first (the newsletter's language
    when the issue lists none)."""
    return issue.languages or (settings.newsletter.language,)


def web_path(slug: str, language: str, settings: Settings) -> str:
    """Where an edition's web page lives, relative to ``base_url``: ``2015-10/`` for the
    newsletter's language, ``ja/2015-10/`` for the others."""
    return f"{slug}/" if language == settings.newsletter.language else f"{language}/{slug}/"


def web_url_for(issue: Issue, settings: Settings, language: str | None = None) -> str:
    language = language or issue_languages(issue, settings)[0]
    return f"{settings.newsletter.base_url.rstrip('/')}/{web_path(issue.slug, language, settings)}"


def render_issue(issue: Issue, settings: Settings, env: jinja2.Environment | None = None,
                 language: str | None = None) -> RenderedIssue:
    """Run the expensive pipeline once for one language (default: the issue's first):
    Jinja -> MJML -> inlined HTML, and the text part."""
    env = env or build_environment(settings)
    table = SlotTable()
    context = _email_context(issue, settings, table, language)
    html = inline_css(compile_mjml(render_template(env, EMAIL_TEMPLATE, context)))
    notes = LinkNotes(shown=[context["web_url"], *(item.link for item in issue.items if item.link)])
    text = to_flowed(tidy(render_template(env, TEXT_TEMPLATE, {**context, "links": notes})))
    return RenderedIssue(
        issue=context["issue"],
        subject=context["issue"].subject,
        html=table.split(html),
        text=table.split(text),
        slots=tuple(table.slots),
        web_url=context["web_url"],
        language=context["language"],
    )


def email_mjml(issue: Issue, settings: Settings, env: jinja2.Environment | None = None,
               language: str | None = None) -> str:
    """The MJML that Jinja makes of one language's email, before MRML compiles it: what
    the benchmarks hand to each MJML compiler."""
    return render_template(env or build_environment(settings), EMAIL_TEMPLATE,
                           _email_context(issue, settings, SlotTable(), language))


def _email_context(issue: Issue, settings: Settings, table: SlotTable, language: str | None) -> dict[str, Any]:
    """The email's context: the member's values and links are slots of ``table``."""
    context = _context(issue, settings, member=MemberSlots(table), audience="email", language=language)
    context[UNSUBSCRIBE_FIELD] = table.token(Slot("{" + UNSUBSCRIBE_FIELD + "}"))
    context[PREFERENCES_FIELD] = table.token(Slot("{" + PREFERENCES_FIELD + "}"))
    return context


def render_editions(issue: Issue, settings: Settings, env: jinja2.Environment | None = None) -> dict[str, RenderedIssue]:
    """Every language's edition, default first: one render each, shared by all members."""
    env = env or build_environment(settings)
    return {language: render_issue(issue, settings, env, language) for language in issue_languages(issue, settings)}


def render_web_page(issue: Issue, settings: Settings, env: jinja2.Environment | None = None,
                    language: str | None = None) -> str:
    """The public web version in one language: the same email layout with no member data
    and no token, with ``hreflang`` alternates and a switch to its other languages."""
    env = env or build_environment(settings)
    context = _context(issue, settings, member=PublicMember(), audience="web", language=language)
    context[UNSUBSCRIBE_FIELD] = context[PREFERENCES_FIELD] = ""
    if len(issue_languages(issue, settings)) > 1:
        context["alternates"] = alternates(issue, settings, context["language"])
    return inline_css(compile_mjml(render_template(env, EMAIL_TEMPLATE, context)))


def alternates(issue: Issue, settings: Settings, current: str) -> tuple[Alternate, ...]:
    """The issue's web pages in each of its languages, as seen from ``current``'s page."""
    here = "/" + web_path(issue.slug, current, settings)
    return tuple(
        Alternate(language, language_name(language), web_url_for(issue, settings, language),
                  posixpath.relpath("/" + web_path(issue.slug, language, settings), here) + "/", language == current)
        for language in issue_languages(issue, settings)
    )


def build_environment(settings: Settings) -> jinja2.Environment:
    env = make_environment(settings.templates_dir)
    env.filters["plaintext"] = _plaintext
    env.filters["wrap"] = wrap_text
    env.filters["width"] = text_width
    return env


@pass_context
def _plaintext(context: Any, source: str) -> str:
    return markdown_to_text(source, context["links"])


def _context(issue: Issue, settings: Settings, member: Any, audience: str, language: str | None = None) -> dict[str, Any]:
    languages = issue_languages(issue, settings)
    language = language if language in languages else languages[0]
    fallback = str(settings.table("i18n").get("fallback", "default"))
    if fallback not in FALLBACKS:
        where = f"{settings.source}: " if settings.source else ""
        raise ConfigError(f"{where}[i18n] fallback must be one of {', '.join(map(repr, FALLBACKS))}, got {fallback!r}")
    return {
        "issue": localise(issue, language, fallback),
        "newsletter": settings.newsletter,
        "theme": settings.theme,
        "member": member,
        "audience": audience,
        "web_url": web_url_for(issue, settings, language),
        "alternates": (),
        "subscribe_url": settings.newsletter.subscribe_url or f"{settings.newsletter.base_url.rstrip('/')}/subscribe",
        **language_context(translations(settings.locale_dir, language), language),
    }

