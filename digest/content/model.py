"""The content model: an issue, its sections and items, and the findings about them.

Frozen dataclasses, built only by the loader, read by every later stage (render,
checks, preview, archive), so nothing downstream can change what the editor wrote.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping


@dataclass(frozen=True)
class Finding:
    """One problem found in an issue: an error stops a build and a send, a warning does
    not, a note only informs (e.g. a spam score)."""

    severity: str  # "error" | "warning" | "note"
    message: str
    path: Path
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class Item:
    """One curated item: a title, a Markdown body, and optional link and image."""

    slug: str
    path: Path
    title: str
    body: str
    link: str = ""
    image: str = ""
    image_alt: str = ""
    date: dt.date | None = None
    tags: tuple[str, ...] = ()
    draft: bool = False
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    language: str = ""  # what its title and body are written in; "" = the issue's default
    translations: Mapping[str, "Item"] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Section:
    title: str
    items: tuple[Item, ...]
    intro: str = ""
    # language -> {"title": ..., "intro": ...}: the section's text in the other languages
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Issue:
    """A whole issue, in the order the editor listed it."""

    slug: str
    path: Path
    title: str
    date: dt.date
    subject: str
    sections: tuple[Section, ...]
    preheader: str = ""
    intro: str = ""
    draft: bool = False
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    # The languages the issue is written for, default first; () = the newsletter's one.
    languages: tuple[str, ...] = ()
    language: str = ""  # the language of this object's text; "" = the default
    # language -> {"title", "subject", "preheader", "intro"}: issue-level text per language
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict, compare=False, repr=False)
    # language -> {key: line} in issue.toml, for findings about translated text
    translation_lines: Mapping[str, Mapping[str, int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)

    def items_with_translations(self) -> Iterator[tuple[Item, Item]]:
        """(item, translation) pairs, every item first paired with itself."""
        for item in self.items:
            yield item, item
            for translation in item.translations.values():
                yield item, translation
