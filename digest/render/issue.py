"""Render an issue once: the email HTML and text with member slots, and the public web page.

This is the expensive step (Jinja, MJML, CSS inlining) and it runs once per issue;
``RenderedIssue.personalise`` is the cheap per-member step.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import jinja2
from jinja2 import pass_context

from ..config import Settings
from ..content import Issue
from .email import compile_mjml, inline_css
from .markdown import LinkNotes, markdown_to_text, wrap_text
from .slots import MemberSlots, PublicMember, Slot, SlotTable, SlotText, escape_html
from .templates import make_environment, render_template

EMAIL_TEMPLATE = "email.mjml"
TEXT_TEMPLATE = "email.txt"
UNSUBSCRIBE_FIELD = "unsubscribe_url"
PREFERENCES_FIELD = "preferences_url"


@dataclass(frozen=True)
class RenderedIssue:
    """An issue rendered once, ready to be personalised per member."""

    issue: Issue
    subject: str
    html: SlotText
    text: SlotText
    slots: tuple[Slot, ...]
    web_url: str

    def slot_values(self, fields: Mapping[str, str]) -> list[str]:
        return [slot.value(fields) for slot in self.slots]

    def personalise(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """HTML and text for one member; ``fields`` holds the member's columns,
        ``unsubscribe_url`` and ``preferences_url``. Values are HTML-escaped in the HTML part."""
        values = self.slot_values(fields)
        return self.html.merge(values, escape_html), self.text.merge(values)

    def largest_html_bytes(self, fields: Mapping[str, str]) -> int:
        return len(self.personalise(fields)[0].encode("utf-8"))


def web_url_for(issue: Issue, settings: Settings) -> str:
    return f"{settings.newsletter.base_url.rstrip('/')}/{issue.slug}/"


def render_issue(issue: Issue, settings: Settings, env: jinja2.Environment | None = None) -> RenderedIssue:
    """Run the expensive pipeline once: Jinja -> MJML -> inlined HTML, and the text part."""
    env = env or build_environment(settings)
    table = SlotTable()
    context = _context(issue, settings, member=MemberSlots(table), audience="email")
    context[UNSUBSCRIBE_FIELD] = table.token(Slot("{" + UNSUBSCRIBE_FIELD + "}"))
    context[PREFERENCES_FIELD] = table.token(Slot("{" + PREFERENCES_FIELD + "}"))
    html = inline_css(compile_mjml(render_template(env, EMAIL_TEMPLATE, context)))
    text = _tidy_text(render_template(env, TEXT_TEMPLATE, {**context, "links": LinkNotes()}))
    return RenderedIssue(
        issue=issue,
        subject=issue.subject,
        html=SlotText.parse(html),
        text=SlotText.parse(text),
        slots=tuple(table.slots),
        web_url=context["web_url"],
    )


def render_web_page(issue: Issue, settings: Settings, env: jinja2.Environment | None = None) -> str:
    """The public web version: the same email layout with no member data and no token."""
    env = env or build_environment(settings)
    context = _context(issue, settings, member=PublicMember(), audience="web")
    context[UNSUBSCRIBE_FIELD] = context[PREFERENCES_FIELD] = ""
    return inline_css(compile_mjml(render_template(env, EMAIL_TEMPLATE, context)))


def build_environment(settings: Settings) -> jinja2.Environment:
    env = make_environment(settings.templates_dir)
    env.filters["plaintext"] = _plaintext
    env.filters["wrap"] = wrap_text
    return env


@pass_context
def _plaintext(context: Any, source: str) -> str:
    return markdown_to_text(source, context["links"])


def _context(issue: Issue, settings: Settings, member: Any, audience: str) -> dict[str, Any]:
    return {
        "issue": issue,
        "newsletter": settings.newsletter,
        "theme": settings.theme,
        "member": member,
        "audience": audience,
        "web_url": web_url_for(issue, settings),
    }


def _tidy_text(text: str) -> str:
    """Template whitespace is hard to get right in plain text: normalise it here."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"
