"""Languages: tags, matching a member's tag to an edition, gettext catalogs, locale data.

Shared by rendering, the archive and the members' web app, so it sits beside
``config.py`` rather than in ``render/`` (importing ``digest.render`` would load the
MJML and CSS machinery into the web app). Babel is imported only when locale data or a
catalog is first needed.

Catalogs are ``<locale dir>/<lang>/LC_MESSAGES/digest.po`` and are compiled when first
loaded (Babel's ``read_po``, then ``write_mo`` into memory), not committed as ``.mo``
files: the ``.po`` an editor or translator edits is the only copy, so nothing can go
stale, and a compile costs a few milliseconds once per process (and again only when
the file changes, which the preview relies on). English is the source language: a
message with no translation is shown as written in the templates.
"""
from __future__ import annotations

import gettext as gettext_module
import io
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .errors import TemplateError

DOMAIN = "digest"
SOURCE_LANGUAGE = "en"
_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_BRACE_FIELD = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def is_language_tag(tag: str) -> bool:
    """A BCP 47 tag of the shapes newsletters use: ``en``, ``ja``, ``pt-BR``, ``zh-Hant``."""
    return bool(_TAG.match(tag))


def canonical_tag(tag: str) -> str:
    """``JA-jp`` -> ``ja-JP``, ``zh-hant`` -> ``zh-Hant``: one spelling per language, so
    URLs and folder names agree across issues. Underscores (``ja_JP``) are accepted."""
    parts = tag.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)


def match_language(tag: str, available: Iterable[str], default: str) -> str:
    """The edition for a member whose language column says ``tag`` (RFC 4647 lookup):
    ``ja-JP`` gets ``ja``, ``zh-Hant-TW`` gets ``zh-Hant``; empty or unknown gets ``default``."""
    return _match(tag or "", tuple(available), default)


@lru_cache(maxsize=4096)
def _match(tag: str, available: tuple[str, ...], default: str) -> str:
    by_lower = {language.lower(): language for language in available}
    candidate = tag.strip().replace("_", "-").lower()
    while candidate:
        if candidate in by_lower:
            return by_lower[candidate]
        candidate = candidate.rpartition("-")[0]
    return default


def negotiate(accept_language: str, available: Iterable[str]) -> str | None:
    """The best of ``available`` for an HTTP Accept-Language header, or None."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, index, tag))
    languages = tuple(available)
    for _, _, tag in sorted(wanted):
        found = _match(tag, languages, "")
        if found:
            return found
    return None


def catalog_path(locale_dir: Path, language: str) -> Path | None:
    """The catalog for ``language`` (``ja-JP`` falls back to ``ja``), if there is one."""
    candidate = canonical_tag(language)
    while candidate:
        for spelling in (candidate.replace("-", "_"), candidate):
            path = locale_dir / spelling / "LC_MESSAGES" / f"{DOMAIN}.po"
            if path.is_file():
                return path
        candidate = candidate.rpartition("-")[0]
    return None


def catalog_languages(locale_dir: Path) -> list[str]:
    """Languages with a catalog in ``locale_dir``, sorted."""
    if not locale_dir.is_dir():
        return []
    return sorted(canonical_tag(p.parent.parent.name) for p in locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


_lock = threading.Lock()
_compiled: dict[Path, tuple[tuple[int, int], gettext_module.NullTranslations]] = {}


def translations(locale_dir: Path, language: str) -> gettext_module.NullTranslations:
    """The compiled catalog for ``language``; English text as written when there is none.
    Recompiled when the ``.po`` file changes. A broken catalog is a TemplateError
    naming the file and line."""
    path = catalog_path(locale_dir, language)
    if path is None:
        return gettext_module.NullTranslations()
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _compiled.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        compiled = _compile(path)
        _compiled[path] = (stamp, compiled)
        return compiled


def _compile(path: Path) -> gettext_module.NullTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
    except PoFileError as exc:
        line = exc.lineno + 1 if isinstance(getattr(exc, "lineno", None), int) else None  # Babel counts from 0
        reason = re.sub(r" on \d+$", "", str(exc))
        raise TemplateError(f"catalog does not parse: {reason}", path, line) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read catalog ({exc})", path) from None
    for message, errors in catalog.check():
        if errors:
            raise TemplateError(f"translation of {message.id!r} does not fit it: {errors[0]}", path, message.lineno)
    for message in catalog:
        if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            extra = set(_BRACE_FIELD.findall(message.string)) - set(_BRACE_FIELD.findall(message.id))
            if extra:
                raise TemplateError(f"translation of {message.id!r} names {{{sorted(extra)[0]}}}, which the message does not have", path, message.lineno)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def _locale(language: str):  # -> babel.Locale
    from babel import Locale, UnknownLocaleError

    candidate = canonical_tag(language)
    while candidate:
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError):
            candidate = candidate.rpartition("-")[0]
    return Locale.parse(SOURCE_LANGUAGE)


@lru_cache(maxsize=256)
def locale_for(language: str):  # -> babel.Locale
    """Babel's locale data for ``language``, or English when Babel has none."""
    return _locale(language)


def format_long_date(day, language: str) -> str:
    """``October 30, 2015`` / ``2015年10月30日``: the locale's long date format."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=locale_for(language))


def text_direction(language: str) -> str:
    """``rtl`` for right-to-left scripts (Arabic, Hebrew, ...), else ``ltr``."""
    return "rtl" if locale_for(language).character_order == "right-to-left" else "ltr"


def language_name(language: str, in_language: str | None = None) -> str:
    """The language's name in ``in_language`` (default: in itself, as switchers show it)."""
    locale = locale_for(language)
    if locale.language != canonical_tag(language).split("-")[0]:
        return language  # Babel does not know it: the tag is the best name there is
    name = locale.get_display_name(locale_for(in_language or language)) or language
    return name[:1].upper() + name[1:]
