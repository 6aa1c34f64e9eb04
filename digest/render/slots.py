"""Per-member slots: placeholders rendered once, filled per member by a cheap merge.

Templates are rendered once with a ``member`` object whose fields render as unique
ASCII tokens; the tokens survive MJML compilation and CSS inlining untouched. After
that the output is split at the tokens once, so personalising for a member is a list
join: no template engine, no MJML, no CSS work per member.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Callable, Mapping

from markupsafe import Markup

_TOKEN = "__digest_slot_{}__"
_TOKEN_RE = re.compile(r"__digest_slot_(\d+)__")
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
    """Hands out tokens for slots during the one render, and remembers what each means."""

    def __init__(self) -> None:
        self.slots: list[Slot] = []
        self._index: dict[Slot, int] = {}

    def token(self, slot: Slot) -> Markup:
        if slot not in self._index:
            self._index[slot] = len(self.slots)
            self.slots.append(slot)
        return Markup(_TOKEN.format(self._index[slot]))


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

    @classmethod
    def parse(cls, text: str) -> "SlotText":
        parts = _TOKEN_RE.split(text)
        return cls(literals=tuple(parts[0::2]), slot_ids=tuple(int(i) for i in parts[1::2]))

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
