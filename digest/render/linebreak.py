"""Line breaking for the plain-text part: by display width, with Japanese rules.

Wrapping at spaces alone leaves a Japanese paragraph as one 240-column line, and
counting characters makes a line of kanji twice as wide as it looks. Here a line is
measured in terminal columns (``wcwidth``: CJK characters take two), Japanese runs
break between BudouX phrases (``budoux``, the phrase model Chrome uses), and kinsoku
shori keeps closing punctuation (。、」』） and small kana) off the start of a line and
opening brackets (「『（) off its end. A footnote mark (``[3]``) stays with the word
before it. A word or phrase wider than a line (a URL) is left whole.

Lines come back with a flag saying whether the break after them is soft (a wrap the
reader's client may undo) or hard (end of paragraph); ``flowed.py`` turns that into
RFC 3676 format=flowed.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import budoux
from wcwidth import wcswidth

# Characters a line may not start with (JIS X 4051 gyoto kinsoku, and ASCII closers).
NO_LINE_START = frozenset(
    "、。，．・：；？！ー―‐〜～…‥々ゝゞヽヾ"
    "）〕］｝〉》」』】〙〗〟’”»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    ")]},.:;!?%"
)
# Characters a line may not end with (gyomatsu kinsoku).
NO_LINE_END = frozenset("（〔［｛〈《「『【〘〖〝‘“«([{")

_FOOTNOTE = re.compile(r"\[\d+\]")
# Scripts BudouX splits into phrases: kana and CJK ideographs.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@dataclass(frozen=True)
class Line:
    text: str
    soft: bool  # True when the paragraph continues on the next line


@lru_cache(maxsize=1)
def _phrase_parser() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospaced terminal (CJK characters count two)."""
    width = wcswidth(text)
    if width >= 0:
        return width
    # Control characters make wcswidth give up; count what is printable.
    return sum(max(wcswidth(c), 0) for c in text)


def is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


@dataclass(frozen=True)
class _Atom:
    text: str
    space_before: bool  # a space separated it from the atom before


def _atoms(paragraph: str) -> list[_Atom]:
    """Unbreakable pieces: words, and Japanese phrases split further by BudouX."""
    atoms: list[_Atom] = []
    for index, word in enumerate(paragraph.split()):
        space_before = index > 0
        mark = _FOOTNOTE.match(word)
        if mark and atoms:
            # "report [2]": the mark belongs to the word before it.
            atoms[-1] = _Atom(atoms[-1].text + " " + mark.group(), atoms[-1].space_before)
            word, space_before = word[mark.end():], False
            if not word:
                continue
        pieces = _phrase_parser().parse(word) if _JAPANESE.search(word) else [word]
        for number, piece in enumerate(pieces):
            atoms.append(_Atom(piece, space_before=space_before and number == 0))
    return _join_forbidden(atoms)


def _join_forbidden(atoms: list[_Atom]) -> list[_Atom]:
    """Glue atoms where a break between them would break kinsoku or split a footnote
    mark from its word."""
    joined: list[_Atom] = []
    for atom in atoms:
        if joined and not atom.space_before and not _may_break(joined[-1].text, atom.text):
            joined[-1] = _Atom(joined[-1].text + atom.text, joined[-1].space_before)
        else:
            joined.append(atom)
    return joined


def _may_break(before: str, after: str) -> bool:
    return (
        after[0] not in NO_LINE_START
        and before[-1] not in NO_LINE_END
        and not _FOOTNOTE.match(after)
    )


def _split_long(atom: str, width: int) -> list[str]:
    """A Japanese run wider than a line, cut between characters where kinsoku allows."""
    if not any(is_wide(c) for c in atom):
        return [atom]
    pieces, current = [], ""
    for char in atom:
        if current and display_width(current + char) > width and _may_break(current, char):
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces


def wrap_paragraph(paragraph: str, width: int, first_prefix: str = "", rest_prefix: str = "") -> list[Line]:
    """Greedy fill of one paragraph into lines of at most ``width`` columns (prefixes
    included), breaking only where the rules above allow."""
    lines: list[Line] = []
    prefix = first_prefix
    current = ""
    for atom in _atoms(paragraph):
        separator = " " if atom.space_before and current else ""
        room = width - display_width(prefix)
        if current and display_width(current + separator + atom.text) > room:
            lines.append(Line(prefix + current + (" " if atom.space_before else ""), soft=True))
            prefix, current, separator = rest_prefix, "", ""
            room = width - display_width(prefix)
        if display_width(atom.text) > room:
            # Only a line of its own can hold it, so ``current`` is empty here.
            *full, last = _split_long(atom.text, room)
            for piece in full:
                lines.append(Line(prefix + piece, soft=True))
                prefix = rest_prefix
            current = last
        else:
            current += separator + atom.text
    lines.append(Line(prefix + current, soft=False))
    return lines
