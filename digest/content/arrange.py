"""Arranging an issue: moving, removing and undrafting items, renaming sections.

Each is one all-or-nothing change to the folder made through the comment-preserving
editor (``tomledit.py``): issue.toml and an item file change together or not at all,
and a name that does not exist is refused with the names that do (the closest first),
so an editor never has to keep two files in step by hand.
"""
from __future__ import annotations

import difflib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import ContentError
from .files import read_exact, write_atomic
from .loader import FRONT_MATTER_FENCE, ISSUE_FILE
from .tomledit import (append_items, insert_items, item_comment, parse, remove_item as remove_listed, remove_key,
                       retitle_section, section_items, section_titles)
from .translations import translation_stem


@dataclass(frozen=True)
class Placed:
    """Where an item is (or went): its file name, section title and 1-based position."""

    name: str
    section: str
    position: int
    emptied: str | None = None  # a section this change left without items


def suggestion(name: str, choices: list[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest of ``choices``, or ""."""
    folded = {c.casefold(): c for c in reversed(choices)}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.6)
    return f" (did you mean {folded[close[0]]!r}?)" if close else ""


def find_section(titles: list[str], name: str, path: Path, create_hint: str = "") -> int:
    """The index of the section titled ``name``, or a refusal naming the sections there are."""
    if name in titles:
        return titles.index(name)
    listing = ", ".join(repr(t) for t in titles) or "none"
    raise ContentError(f"no section {name!r}{suggestion(name, titles)}; the sections are {listing}{create_hint}", path)


def find_item(folder: Path, item: str) -> tuple[str, int, int, str]:
    """(issue.toml text, section index, position, file name) of a listed item named by
    its file name, with or without ``.md``, or by a path to it."""
    issue_toml = folder / ISSUE_FILE
    text = _issue_text(folder)
    listed = section_items(text, issue_toml)
    name = Path(item).name
    candidates = [name, f"{name}.md"]
    for index, names in enumerate(listed):
        for candidate in candidates:
            if candidate in names:
                return text, index, names.index(candidate), candidate
    every = [n for names in listed for n in names]
    raise ContentError(f"no item {name!r} is listed{suggestion(name, every) or suggestion(f'{name}.md', every)}", issue_toml)


def move_item(folder: Path, item: str, section: str | None = None, position: int | None = None,
              new_section: bool = False) -> Placed:
    """Move a listed item to ``section`` (default: its own) at 1-based ``position``
    (default: the end). With ``new_section``, a missing section is created at the end."""
    issue_toml = folder / ISSUE_FILE
    text, source, _, name = find_item(folder, item)
    titles = section_titles(text, issue_toml)
    creating = section is not None and section not in titles and new_section
    target = source if section is None else (len(titles) if creating else find_section(titles, section, issue_toml))
    removed = remove_listed(text, source, name, issue_toml)
    if creating:
        new_text = append_items(removed, section, [name], issue_toml)
    else:
        count = len(section_items(removed, issue_toml)[target]) + 1
        if position is not None and not 1 <= position <= count:
            raise ContentError(f"position {position} is not in section {titles[target]!r}: give 1 to {count}", issue_toml)
        new_text = insert_items(removed, target, [name], None if position is None else position - 1, issue_toml,
                                {name: item_comment(text, source, name, issue_toml)})
    _write(issue_toml, new_text)
    placed = section_items(new_text, issue_toml)[target]
    return Placed(name, section if creating else titles[target], placed.index(name) + 1, _emptied(new_text, source, issue_toml))


def remove_item(folder: Path, item: str) -> tuple[Placed, list[Path]]:
    """Take an item out of issue.toml and delete its file and its translations
    (``01-x.ja.md`` beside ``01-x.md``): all of that or none. Returns the files removed."""
    issue_toml = folder / ISSUE_FILE
    text, index, position, name = find_item(folder, item)
    new_text = remove_listed(text, index, name, issue_toml)
    stem = Path(name).stem
    paths = [p for p in [folder / name, *sorted(folder.glob(f"{stem}.*.md"))]
             if p.name == name or (translation_stem(p.name) or ("",))[0] == stem]
    asides = {path: folder / f".{path.name}.{secrets.token_hex(8)}.removed" for path in paths if path.exists()}
    moved: list[Path] = []
    try:
        try:
            for path, aside in asides.items():
                os.rename(path, aside)
                moved.append(path)
            write_atomic(issue_toml, new_text)
        except BaseException:
            for path in moved:
                os.rename(asides[path], path)
            raise
    except OSError as exc:
        raise ContentError(f"cannot remove ({exc.strerror})", exc.filename or folder / name) from None
    for aside in asides.values():
        aside.unlink(missing_ok=True)
    placed = Placed(name, section_titles(text, issue_toml)[index], position + 1, _emptied(new_text, index, issue_toml))
    return placed, list(asides)


def undraft_items(folder: Path, items: list[str]) -> list[Path]:
    """Delete the ``draft = true`` line of each item; all of them or none."""
    changes: dict[Path, tuple[str, str]] = {}
    for item in items:
        name = find_item(folder, item)[3]
        path = folder / name
        old = read_exact(path)
        changes[path] = (old, _without_draft(old, path))
    done: list[Path] = []
    try:
        for path, (_, new) in changes.items():
            write_atomic(path, new)
            done.append(path)
    except OSError as exc:
        for path in done:
            write_atomic(path, changes[path][0])
        raise ContentError(f"cannot write ({exc.strerror})", exc.filename or folder) from None
    return list(changes)


def draft_items(folder: Path) -> list[str]:
    """The file names of the listed items whose front matter says ``draft = true``."""
    text = _issue_text(folder)
    found = []
    for name in (n for names in section_items(text, folder / ISSUE_FILE) for n in names):
        path = folder / name
        try:
            if parse(_front_matter(read_exact(path), path)[1], path, 2).get("draft") is True:
                found.append(name)
        except ContentError:
            continue  # check reports the broken item; it is no draft to keep
    return found


def rename_section(folder: Path, old: str, new: str) -> int:
    """Give the section titled ``old`` the title ``new``; returns its 1-based number."""
    issue_toml = folder / ISSUE_FILE
    text = _issue_text(folder)
    titles = section_titles(text, issue_toml)
    index = find_section(titles, old, issue_toml)
    if not new.strip():
        raise ContentError("the new section title is empty", issue_toml)
    if new in titles and titles.index(new) != index:
        raise ContentError(f"there is already a section {new!r}", issue_toml)
    _write(issue_toml, retitle_section(text, index, new, issue_toml))
    return index + 1


def _without_draft(text: str, path: Path) -> str:
    (start, end), front = _front_matter(text, path)
    if parse(front, path, 2).get("draft") is not True:
        raise ContentError("is not a draft (no draft = true in its front matter)", path)
    return text[:start] + remove_key(front, "draft", path) + text[end:]


def _front_matter(text: str, path: Path) -> tuple[tuple[int, int], str]:
    """The span and text of an item's front matter, between its ``+++`` lines."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ContentError(f"item must start with a {FRONT_MATTER_FENCE} line opening its TOML front matter", path, 1)
    offset = len(lines[0])
    for line in lines[1:]:
        if line.strip() == FRONT_MATTER_FENCE:
            return (len(lines[0]), offset), text[len(lines[0]):offset]
        offset += len(line)
    raise ContentError(f"front matter opened on line 1 is never closed with {FRONT_MATTER_FENCE}", path, 1)


def _write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ContentError(f"cannot write ({exc.strerror})", path) from None


def _emptied(text: str, index: int, issue_toml: Path) -> str | None:
    if section_items(text, issue_toml)[index]:
        return None
    return section_titles(text, issue_toml)[index]


def _issue_text(folder: Path) -> str:
    if not folder.is_dir():
        raise ContentError("not an issue folder (no such directory)", folder)
    return read_exact(folder / ISSUE_FILE)
