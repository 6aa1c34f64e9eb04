"""One body for many members, with placeholders the provider fills per recipient.

Mailgun (``recipient-variables``) and SendGrid (``substitutions``) take one message and up
to 1,000 recipients and fill per-recipient values themselves. Our members' messages
differ only in the slot values of one ``RenderedIssue`` (name, unsubscribe link, ...) and
a few headers, so a batch from one ``MessageFactory`` becomes one body whose slots are
placeholders, plus one small table of values per member. The HTML and the text part get
separate placeholders because a value is HTML-escaped in one and not in the other, so the
provider's plain substitution produces exactly ``message.html`` and ``message.text``.

Providers substitute a placeholder wherever it appears, item text included, so every
name carries the render's secret slot key: an item cannot name a member's values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from ...render.mime import MessageFactory, OutgoingMessage
from ...render.slots import escape_html


def split_for_merge(messages: Sequence[OutgoingMessage]) -> list[list[OutgoingMessage]]:
    """Groups that can share one body: same factory, each address once, ignoring case
    (values are keyed by address), in first-seen order."""
    groups: list[tuple[MessageFactory, set[str], list[OutgoingMessage]]] = []
    for message in messages:
        for factory, seen, group in groups:
            if factory is message.factory and message.recipient.lower() not in seen:
                seen.add(message.recipient.lower())
                group.append(message)
                break
        else:
            groups.append((message.factory, {message.recipient.lower()}, [message]))
    return [group for _, _, group in groups]


@dataclass(frozen=True)
class MergedBody:
    """The shared HTML and text with placeholders, and how to name each member's values."""

    html: str
    text: str
    html_slots: tuple[int, ...]
    text_slots: tuple[int, ...]
    key: str

    @classmethod
    def for_factory(cls, factory: MessageFactory, placeholder: Callable[[str], str]) -> "MergedBody":
        rendered = factory.rendered
        count = len(rendered.slots)
        key = rendered.html.key
        return cls(
            html=rendered.html.merge([placeholder(f"{key}h{i}") for i in range(count)]),
            text=rendered.text.merge([placeholder(f"{key}t{i}") for i in range(count)]),
            html_slots=tuple(sorted(set(rendered.html.slot_ids))),
            text_slots=tuple(sorted(set(rendered.text.slot_ids))),
            key=key,
        )

    def name(self, field: str) -> str:
        """The placeholder name for another per-member value (a header, say)."""
        return f"{self.key}{field}"

    def values(self, message: OutgoingMessage) -> dict[str, str]:
        """The member's values under the names the placeholders use."""
        values = {f"{self.key}h{i}": escape_html(message.values[i]) for i in self.html_slots}
        values.update({f"{self.key}t{i}": message.values[i] for i in self.text_slots})
        return values


def header_value(message: OutgoingMessage, name: str) -> str:
    return next(value for header, value in message.headers if header == name)
