"""Item bodies are Markdown: to HTML for the email and web, to wrapped text for the text part.

Raw HTML in Markdown is off: editors write content, template authors write markup, and
anything else is escaped. Both outputs walk the same parse, so the two parts of a
message say the same thing (SpamAssassin's MPART_ALT_DIFF penalises parts that differ).

In the text part every URL appears once: a link's URL becomes a numbered footnote
(``text [n]``, listed at the end), except URLs the text part prints in place anyway
(item links, the web version), whose links keep only their text. Paragraphs wrap by
display width with Japanese line-breaking rules (``linebreak.py``) and mark their soft
breaks for format=flowed (``flowed.py``).
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from .flowed import SOFT
from .linebreak import display_width, is_wide, wrap_paragraph

TEXT_WIDTH = 72


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": False})


def markdown_to_html(source: str) -> Markup:
    """Markdown to safe HTML (raw HTML in the source is shown as text)."""
    return Markup(_parser().render(source or ""))


class LinkNotes:
    """Collects link URLs as numbered footnotes across one text part; ``shown`` are
    URLs the part prints in place, which get no footnote."""

    def __init__(self, shown: Iterable[str] = ()) -> None:
        self.urls: list[str] = []
        self.shown = frozenset(shown)

    def number(self, url: str) -> int | None:
        if url in self.shown:
            return None
        if url not in self.urls:
            self.urls.append(url)
        return self.urls.index(url) + 1


def markdown_to_text(source: str, notes: LinkNotes, width: int = TEXT_WIDTH) -> str:
    """Markdown to plain text: wrapped paragraphs, lists, and links as ``text [n]``."""
    blocks: list[str] = []
    prefix_stack: list[str] = []
    ordinal_stack: list[int] = []
    for token in _parser().parse(source or ""):
        if token.type == "bullet_list_open":
            ordinal_stack.append(0)
        elif token.type == "ordered_list_open":
            ordinal_stack.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            ordinal_stack.pop()
        elif token.type == "list_item_open":
            if ordinal_stack and ordinal_stack[-1]:
                prefix_stack.append(f"{ordinal_stack[-1]}. ")
                ordinal_stack[-1] += 1
            else:
                prefix_stack.append("- ")
        elif token.type == "list_item_close":
            prefix_stack.pop()
        elif token.type == "blockquote_open":
            prefix_stack.append("> ")
        elif token.type == "blockquote_close":
            prefix_stack.pop()
        elif token.type == "inline":
            blocks.append(_wrap(_inline_text(token, notes), prefix_stack, width))
        elif token.type in ("fence", "code_block"):
            blocks.append(textwrap.indent(token.content.rstrip("\n"), "    "))
        elif token.type == "hr":
            blocks.append("-" * 20)
    return "\n\n".join(b for b in blocks if b.strip())


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Wrap by display width; breaks at spaces, and inside Japanese between phrases."""
    return _wrap(text, [], width)


def text_width(text: str) -> int:
    """Display width of the widest line (for underlines that match their title)."""
    return max((display_width(line.replace(SOFT, "").rstrip(" ")) for line in str(text).split("\n")), default=0)


def _wrap(text: str, prefixes: list[str], width: int) -> str:
    first = "".join(prefixes)
    rest = "".join(" " * len(p) if p != "> " else p for p in prefixes)
    # A hanging indent (list items) would reflow into the sentence as extra spaces, so
    # only lines without one are marked soft for format=flowed.
    flowable = not rest.startswith(" ")
    out = []
    for index, paragraph_line in enumerate(text.replace(SOFT, "").split("\n")):
        lines = wrap_paragraph(paragraph_line, width, first if index == 0 else rest, rest)
        out.extend(line.text + SOFT if line.soft and flowable else line.text.rstrip(" ") for line in lines)
    return "\n".join(out)


def _inline_text(token: Token, notes: LinkNotes) -> str:
    out: list[str] = []
    link_stack: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            link_stack.append(str(child.attrGet("href") or ""))
        elif child.type == "link_close":
            href = link_stack.pop() if link_stack else ""
            number = notes.number(href) if href else None
            if number is not None:
                # Japanese takes no space before the mark: 報告書[1]をご覧ください。
                text = "".join(out)
                out.append(f"[{number}]" if text and is_wide(text[-1]) else f" [{number}]")
        elif child.type == "image":
            alt = "".join(c.content for c in child.children or []) or child.content
            out.append(f"[image: {alt}]" if alt else "[image]")
    return "".join(out)


@dataclass(frozen=True)
class MarkdownLink:
    """A link or image in Markdown source, with the 0-based line it is written on."""

    kind: str  # "link" | "image"
    url: str
    text: str  # link text, or the image's alt text
    line: int


def markdown_links(source: str) -> list[MarkdownLink]:
    """Every link and image in ``source``, in order, each at the line holding its URL."""
    lines = (source or "").splitlines()
    found: list[MarkdownLink] = []
    for token in _parser().parse(source or ""):
        if token.type != "inline" or not token.map:
            continue
        first, last = token.map
        open_links: list[tuple[str, list[str]]] = []
        for child in token.children or []:
            if child.type == "link_open":
                open_links.append((str(child.attrGet("href") or ""), []))
            elif child.type in ("text", "code_inline") and open_links:
                open_links[-1][1].append(child.content)
            elif child.type == "link_close" and open_links:
                url, words = open_links.pop()
                found.append(MarkdownLink("link", url, "".join(words), _line_of(url, lines, first, last)))
            elif child.type == "image":
                url = str(child.attrGet("src") or "")
                alt = "".join(c.content for c in child.children or []) or child.content
                found.append(MarkdownLink("image", url, alt, _line_of(url, lines, first, last)))
    return found


def _line_of(url: str, lines: list[str], first: int, last: int) -> int:
    """markdown-it maps blocks, not inline tokens, to lines: find the URL in its block."""
    return next((n for n in range(first, min(last, len(lines))) if url and url in lines[n]), first)
