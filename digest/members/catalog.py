"""The words of the members' pages and the confirmation email, one file per language.

``locale/<language>/members.toml`` holds flat ``key = "text"`` pairs (``{newsletter}``
style placeholders allowed); adding a language is adding a folder with that file. The
default language's file defines the keys: another language may leave some out (they
fall back to the default), but a key no file defines is a bug and raises.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..config import Settings
from ..errors import ConfigError

CATALOG_FILE = "members.toml"


@dataclass(frozen=True)
class Strings:
    """One language's strings for a template: ``t.key`` or ``t("key", name=value)``."""

    language: str
    table: Mapping[str, str]
    fallback: Mapping[str, str]

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: str) -> str:
        if key in self.table:
            return self.table[key]
        if key in self.fallback:
            return self.fallback[key]
        raise KeyError(f"no string {key!r} in {CATALOG_FILE}")

    def __call__(self, key: str, **values: str) -> str:
        return self[key].format(**values)


class Catalog:
    """Every shipped language's strings, and the choice of language for a request."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]], default: str):
        if default not in tables:
            raise ConfigError(f"no {CATALOG_FILE} for the default language {default!r} (have: {', '.join(sorted(tables))})")
        self.tables = dict(tables)
        self.default = default

    @classmethod
    def load(cls, folder: Path, default: str) -> "Catalog":
        tables: dict[str, dict[str, str]] = {}
        for path in sorted(folder.glob(f"*/{CATALOG_FILE}")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"{path}: cannot read the strings ({exc})") from None
            bad = [key for key, value in data.items() if not isinstance(value, str)]
            if bad:
                raise ConfigError(f"{path}: {bad[0]} must be a string")
            tables[path.parent.name] = data
        return cls(tables, default if default in tables else "en")

    @classmethod
    def for_settings(cls, settings: Settings) -> "Catalog":
        return cls.load(settings.path("paths", "locale"), _primary(settings.newsletter.language))

    @property
    def languages(self) -> list[str]:
        """Default first, then the others by code."""
        return [self.default, *sorted(lang for lang in self.tables if lang != self.default)]

    def strings(self, language: str) -> Strings:
        language = self.match(language) or self.default
        return Strings(language, self.tables[language], self.tables[self.default])

    def match(self, tag: str) -> str | None:
        """The shipped language for a BCP 47 tag (``ja-JP`` -> ``ja``), or None."""
        primary = _primary(tag)
        return primary if primary in self.tables else None

    def negotiate(self, *choices: str, accept_language: str = "") -> str:
        """The first of ``choices`` we speak, else the best of Accept-Language, else the default."""
        for choice in choices:
            if choice and self.match(choice):
                return self.match(choice)  # type: ignore[return-value]
        for tag in _by_quality(accept_language):
            if self.match(tag):
                return self.match(tag)  # type: ignore[return-value]
        return self.default


def _primary(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-")[0].lower()


def _by_quality(header: str) -> list[str]:
    """Accept-Language tags, best first (``q=0`` means "not this one")."""
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]
