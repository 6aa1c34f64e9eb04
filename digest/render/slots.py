"""Per-member slots: placeholders rendered once, filled per member by a cheap merge.

Templates are rendered once with a ``member`` object whose fields render as unique
ASCII tokens; the tokens survive MJML compilation and CSS inlining untouched. After
that the output is split at the tokens once, so personalising for a member is a list
join: no template engine, no MJML, no CSS work per member.

The tokens carry a random key drawn for each render. Issue text comes from pages and
feeds we do not control and is rendered before the key exists, so it cannot name a
slot: anything in it that looks like a token is only text, never a member's value.
"""
from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Callable, Mapping

from markupsafe import Markup

_FIELD_RE = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class Slot:
    """A member-dependent value: ``pattern`` with ``{field}`` names, or ``default``
    when any named field is missing or empty."""

    pattern: str
    default: str = ""

    def value(self, fields: Mapping[str, str]) -> str:
        names = _FIELD_RE.findall(self.pattern)
        if any(not str(fields.get(name) or "").strip() for name in names):
            return self.default
        return _FIELD_RE.sub(lambda m: str(fields[m.group(1)]), self.pattern)


class SlotTable:
    """Hands out tokens for slots during the one render, and remembers what each means.
    ``key`` is drawn fresh for every table, so no text written before the render can
    contain one of its tokens."""

    def __init__(self) -> None:
        self.key = secrets.token_hex(12)
        self.slots: list[Slot] = []
        self._index: dict[Slot, int] = {}

    def token(self, slot: Slot) -> Markup:
        if slot not in self._index:
            self._index[slot] = len(self.slots)
            self.slots.append(slot)
        return Markup(f"__digest_{self.key}_{self._index[slot]}__")

    def split(self, text: str) -> "SlotText":
        """``text`` split at this table's tokens (and only at those)."""
        parts = re.split(rf"__digest_{self.key}_(\d+)__", text)
        return SlotText(literals=tuple(parts[0::2]), slot_ids=tuple(int(i) for i in parts[1::2]), key=self.key)


class MemberSlots:
    """What templates see as ``member``: ``member.name`` or ``member.field("name", "friend")``
    or ``member.format("Dear {name},", "Dear reader,")``; each renders as a slot token."""

    def __init__(self, table: SlotTable):
        self._table = table

    def __getattr__(self, name: str) -> Markup:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._table.token(Slot("{" + name + "}"))

    def field(self, name: str, default: str = "") -> Markup:
        return self._table.token(Slot("{" + name + "}", default))

    def format(self, pattern: str, default: str = "") -> Markup:
        return self._table.token(Slot(pattern, default))


class PublicMember:
    """``member`` for pages anyone may read (the web version): every field is its default."""

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return ""

    def field(self, name: str, default: str = "") -> str:
        return default

    def format(self, pattern: str, default: str = "") -> str:
        return default


@dataclass(frozen=True)
class SlotText:
    """Text split at its slot tokens once, so a merge is a single join."""

    literals: tuple[str, ...]
    slot_ids: tuple[int, ...]
    key: str = ""  # the render's secret key, for names that must be as unguessable as the tokens

    def merge(self, values: list[str], escape: Callable[[str], str] | None = None) -> str:
        """Fill the slots with ``values`` (indexed by slot id), escaped if asked."""
        out = [self.literals[0]]
        for slot_id, literal in zip(self.slot_ids, self.literals[1:]):
            value = values[slot_id]
            out.append(escape(value) if escape else value)
            out.append(literal)
        return "".join(out)


def escape_html(value: str) -> str:
    return html.escape(value, quote=True)
