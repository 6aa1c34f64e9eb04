"""Checks of the rendered message, as the sample member would receive it.

These catch what templates and theme can get wrong, which no content check sees:
addresses in URLs, text hidden or coloured like its background (spam filters score
both), headings that skip a level, link text that means nothing alone, a <style>
block over the 16 KB Gmail keeps, and the size against Gmail's clip with how many
more items fit. Styles are read from the inlined ``style`` attributes, which is what
clients apply; CSS in ``<head>`` (media queries, dark mode) is the browser tests' part.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import lxml.html

from ..config import Settings
from ..content import Finding, Issue
from ..render import RenderedIssue, render_issue
from ..render.build import sample_message
from ..render.mime import OutgoingMessage
from ..sources.links import body_links
from .addresses import address_in_url
from .content import is_vague_link_text
from .contrast import AA_NORMAL_TEXT, contrast_ratio, parse_colour

GMAIL_STYLE_LIMIT = 16 * 1024
CLIP_WARNING_SHARE = 0.8
PREHEADER_CLASS = "preheader"


@dataclass(frozen=True)
class RenderedSample:
    """An issue rendered once and personalised for the sample member: what the
    rendered checks read, and what ``build`` writes after a clean preflight."""

    issue: Issue
    settings: Settings
    rendered: RenderedIssue
    message: OutgoingMessage

    @property
    def html_bytes(self) -> int:
        return len(self.message.html.encode("utf-8"))

    @property
    def template(self) -> Path:
        """Where findings about the layout point: the email template."""
        return self.settings.templates_dir / "email.mjml"


def sample_of(issue: Issue, settings: Settings, rendered: RenderedIssue) -> RenderedSample:
    """One language's rendering personalised for the sample member."""
    return RenderedSample(issue, settings, rendered, sample_message(rendered, settings))


def render_sample(issue: Issue, settings: Settings, env=None, language: str | None = None) -> RenderedSample:
    return sample_of(issue, settings, render_issue(issue, settings, env, language))


def check_addresses_in_message(sample: RenderedSample) -> Iterable[Finding]:
    """Links made by templates (items' own are checked at their lines)."""
    item_urls = {u for item in sample.issue.items for u in (item.link, item.image, *(f.url for f in body_links(item))) if u}
    tree = _tree(sample.message.html)
    urls = [el.get(attr, "") for attr in ("href", "src") for el in tree.iter() if isinstance(el.tag, str) and el.get(attr)]
    urls += re.findall(r"<([^>]+)>", dict(sample.message.headers).get("List-Unsubscribe", ""))
    known = (sample.message.recipient,)
    for url in dict.fromkeys(urls):
        if url not in item_urls and address_in_url(url, known):
            yield Finding("error", f"a template link carries an email address ({_short(url)}): spam filters score it as phishing; use an opaque token", sample.template)


@dataclass(frozen=True)
class _TextRun:
    text: str
    element: lxml.html.HtmlElement


def _text_runs(tree: lxml.html.HtmlElement) -> Iterator[_TextRun]:
    body = tree.find(".//body")
    for element in (body if body is not None else tree).iter():
        if not isinstance(element.tag, str) or element.tag in ("style", "script", "title"):
            continue
        if element.text and element.text.strip():
            yield _TextRun(element.text.strip(), element)
        for child in element:
            if child.tail and child.tail.strip():
                yield _TextRun(child.tail.strip(), element)


def check_hidden_and_low_contrast_text(sample: RenderedSample) -> Iterable[Finding]:
    """Text nobody sees, and text in a colour too close to its background. Pairs of two
    theme colours are left to the theme check, which names their config lines."""
    theme = sample.settings.theme
    theme_colours = {parse_colour(getattr(theme, key)) for key in ("text", "muted", "accent", "card", "background")}
    hidden: list[str] = []
    low: dict[tuple[str, str], list[str]] = {}
    for run in _text_runs(_tree(sample.message.html)):
        chain = list(_ancestors(run.element))
        if any(PREHEADER_CLASS in (el.get("class") or "").split() for el in chain):
            continue
        if any(_hides(_style(el)) for el in chain) or _inherited(chain, "font-size", _pixels, default=16.0) < 2:
            hidden.append(run.text)
            continue
        fg = _inherited(chain, "color", parse_colour)
        bg = next((c for c in (_background(el) for el in chain) if c), None)
        if fg and bg and not {fg, bg} <= theme_colours and contrast_ratio(fg, bg) < AA_NORMAL_TEXT:
            low.setdefault((_hex(fg), _hex(bg)), []).append(run.text)
    if hidden:
        yield Finding("warning", f"{len(hidden)} piece(s) of text are hidden (display:none, zero size or opacity), e.g. {_short(hidden[0])!r}: spam filters score hidden text", sample.template)
    for (fg, bg), texts in low.items():
        ratio = contrast_ratio(parse_colour(fg), parse_colour(bg))
        yield Finding("warning", f"text in {fg} on {bg} has contrast {ratio:.2f}:1 (WCAG AA needs {AA_NORMAL_TEXT}:1; spam filters score near-invisible text), e.g. {_short(texts[0])!r}", sample.template)


def check_heading_order(sample: RenderedSample) -> Iterable[Finding]:
    """One <h1>, first; no heading more than one level below the one before it."""
    levels = [int(el.tag[1]) for el in _tree(sample.message.html).iter() if isinstance(el.tag, str) and re.fullmatch(r"h[1-6]", el.tag)]
    if levels.count(1) != 1 or levels[0] != 1:
        yield Finding("warning", f"the email should have exactly one <h1> heading, first (found {levels.count(1)}): screen readers navigate by headings", sample.template)
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            yield Finding("warning", f"heading <h{after}> follows <h{before}>, skipping a level: screen readers announce the outline", sample.template)
            break


def check_template_link_text(sample: RenderedSample) -> Iterable[Finding]:
    """Links the templates write (body links are checked at their lines)."""
    body_urls = {found.url for item in sample.issue.items for found in body_links(item)}
    for link in _tree(sample.message.html).iter("a"):
        if link.get("href") in body_urls:
            continue
        text = " ".join(link.text_content().split()) or " ".join(img.get("alt", "") for img in link.iter("img")).strip()
        if is_vague_link_text(text):
            yield Finding("warning", f"a template link reads {text!r}, which says nothing out of context ({_short(link.get('href', ''))})", sample.template)


def check_style_size(sample: RenderedSample) -> Iterable[Finding]:
    for number, block in enumerate(re.findall(r"<style[^>]*>(.*?)</style>", sample.message.html, re.S), 1):
        size = len(block.encode("utf-8"))
        if size > GMAIL_STYLE_LIMIT:
            yield Finding("warning", f"<style> block {number} is {size:,} bytes; Gmail drops a block over {GMAIL_STYLE_LIMIT:,} bytes whole", sample.template)


def check_clip(sample: RenderedSample) -> Iterable[Finding]:
    """Gmail clips past ~102 KB and hides the rest, unsubscribe link included: an error
    past the limit, a warning from 80% with how many more items of this size fit."""
    size, limit = sample.html_bytes, sample.settings.clip_bytes
    issue_toml = sample.issue.path / "issue.toml"
    if size < CLIP_WARNING_SHARE * limit:
        return
    per_item = _bytes_per_item(sample)
    languages = sample.issue.languages
    html = f"HTML of the {sample.rendered.language} edition" if languages and sample.rendered.language != languages[0] else "HTML"
    if size > limit:
        over = f"; remove about {math.ceil((size - limit) / per_item)} item(s)" if per_item else ""
        yield Finding("error", f"{html} is {size:,} bytes, over Gmail's clipping limit of {limit:,}{over}", issue_toml)
        return
    room = f": about {(limit - size) // per_item} more items of this size fit" if per_item else ""
    yield Finding("warning", f"{html} is {size:,} bytes, {size / limit:.0%} of Gmail's clipping limit of {limit:,}{room}", issue_toml)


def _bytes_per_item(sample: RenderedSample) -> int:
    """Bytes an item adds on average: the issue's HTML less an issue with no items."""
    items = len(sample.issue.items)
    if not items:
        return 0
    empty = render_sample(replace(sample.issue, sections=()), sample.settings, language=sample.rendered.language).html_bytes
    return max(1, math.ceil((sample.html_bytes - empty) / items))


MESSAGE_CHECKS: list[Callable[[RenderedSample], Iterable[Finding]]] = [
    check_addresses_in_message,
    check_hidden_and_low_contrast_text,
    check_heading_order,
    check_template_link_text,
    check_style_size,
    check_clip,
]


def _tree(html: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(html.encode("utf-8"))


def _ancestors(element: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    while element is not None:
        yield element
        element = element.getparent()


def _style(element: lxml.html.HtmlElement) -> dict[str, str]:
    declarations = {}
    for part in (element.get("style") or "").split(";"):
        name, _, value = part.partition(":")
        if value.strip():
            declarations[name.strip().lower()] = value.replace("!important", "").strip().lower()
    return declarations


def _hides(style: dict[str, str]) -> bool:
    return (
        style.get("display") == "none"
        or style.get("visibility") == "hidden"
        or style.get("opacity", "1") in ("0", "0.0")
        or (style.get("max-height") in ("0", "0px") and style.get("overflow") == "hidden")
    )


def _inherited(chain: list, name: str, parse: Callable[[str], object], default=None):
    for element in chain:
        value = _style(element).get(name)
        if value:
            parsed = parse(value)
            if parsed is not None:
                return parsed
    return default


def _background(element: lxml.html.HtmlElement):
    style = _style(element)
    for value in (style.get("background-color"), style.get("background"), element.get("bgcolor")):
        if value:
            colour = parse_colour(value.split()[0])
            if colour:
                return colour
    return None


def _pixels(value: str) -> float | None:
    match = re.fullmatch(r"([\d.]+)(px)?", value)
    return float(match.group(1)) if match else None


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
