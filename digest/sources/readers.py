"""Items from elsewhere: a web page's title, description and Open Graph image, and the
entries of RSS/Atom feeds.

Everything read here is untrusted. It leaves this module as plain text (tags
stripped, entities decoded, control characters and line breaks removed, length
capped) and as absolute http(s) URLs, so the writer only has to escape it for TOML
and Markdown.

Pages are parsed with lxml (libxml2), whose time grows linearly with the input:
the stdlib's ``html.parser`` takes minutes on a megabyte of ``</``. Only the first
``HEAD_CHARS`` of a page are parsed; the metadata we want lives in its head.
"""
from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXParseException

import feedparser
from lxml import etree

from ..errors import FetchError
from .fetch import FetchLimits, Fetched, fetch, known_codec, parse_content_type

HTML_TYPES = ("text/html", "application/xhtml+xml")
TITLE_CHARS = 200
DESCRIPTION_CHARS = 600
ALT_CHARS = 300
HEAD_CHARS = 512_000
# Markup kept before tags are stripped from one value: enough for its text, and small
# enough that html.parser's worst case (quadratic) stays a few milliseconds.
MARKUP_CHARS = 20_000


@dataclass(frozen=True)
class PageInfo:
    """What an item needs from a web page."""

    link: str
    title: str
    description: str
    image: str = ""
    image_alt: str = ""


@dataclass(frozen=True)
class FeedEntry:
    """One feed entry, reduced to what an item needs."""

    link: str
    title: str
    summary: str
    published: dt.date | None


def read_page(url: str, limits: FetchLimits) -> PageInfo:
    """Fetch an HTML page and read its metadata; a non-HTML answer is a FetchError
    before its body is read."""
    fetched = fetch(url, limits, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1", media_types=HTML_TYPES)
    return parse_page(decode_html(fetched.body, fetched.charset), fetched.final_url)


def parse_page(html: str, base_url: str) -> PageInfo:
    """Title, description, canonical link and Open Graph image of an HTML document."""
    head = _Head.of(html[:HEAD_CHARS])
    first = head.first_meta
    link = absolute_url(head.canonical, base_url) or absolute_url(first("og:url"), base_url) or base_url
    image = absolute_url(first("og:image:secure_url", "og:image", "og:image:url", "twitter:image"), base_url)
    return PageInfo(
        link=link,
        title=plain_text(first("og:title", "twitter:title") or head.title, TITLE_CHARS),
        description=plain_text(first("og:description", "description", "twitter:description"), DESCRIPTION_CHARS),
        image=image,
        image_alt=plain_text(first("og:image:alt", "twitter:image:alt"), ALT_CHARS) if image else "",
    )


def read_feed(url: str, limits: FetchLimits) -> list[FeedEntry]:
    """Fetch an RSS or Atom feed and return its entries that have a usable link."""
    fetched = fetch(url, limits, accept="application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.1")
    if fetched.truncated:
        raise FetchError(f"feed is larger than {limits.max_bytes:,} bytes ([fetch] max_bytes)", url)
    return parse_feed(fetched)


def parse_feed(fetched: Fetched) -> list[FeedEntry]:
    headers = {"content-location": fetched.final_url, "content-type": fetched.content_type}
    # A file object, never bytes: feedparser tries bytes as a local file name first.
    feed = feedparser.parse(io.BytesIO(fetched.body), response_headers=headers)
    error = feed.get("bozo_exception")
    if not feed.entries and not feed.get("version"):
        raise FetchError(f"not an RSS or Atom feed ({plain_text(str(error or 'no entries'), 120)})", fetched.url)
    if isinstance(error, SAXParseException):
        # feedparser would carry on with what it could read; a cut-short feed must not pass for a short one.
        line = error.getLineNumber() - (0 if fetched.body.lstrip(codecs.BOM_UTF8).startswith(b"<?xml") else 1)
        reason = plain_text(error.getMessage(), 120)
        raise FetchError(f"the feed is not well-formed XML ({reason} at line {max(line, 1)}): broken or cut short", fetched.url)
    entries = []
    for entry in feed.entries:
        link = absolute_url(entry.get("link", ""), fetched.final_url)
        if not link:
            continue
        entries.append(FeedEntry(
            link=link,
            title=plain_text(entry.get("title", ""), TITLE_CHARS),
            summary=plain_text(entry.get("summary", ""), DESCRIPTION_CHARS),
            published=_entry_date(entry),
        ))
    return entries


def _entry_date(entry: dict) -> dt.date | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return dt.datetime(*parsed[:6], tzinfo=dt.timezone.utc).date()


def decode_html(body: bytes, header_charset: str = "") -> str:
    """Decode with the first charset that fits: the header's, a BOM, the page's own
    ``<meta charset>``, UTF-8; else Windows-1252 with replacement characters."""
    candidates = [header_charset, _bom_codec(body), _meta_charset(body), "utf-8"]
    for name in filter(None, candidates):
        try:
            return body.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("cp1252", errors="replace")


def _bom_codec(body: bytes) -> str:
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return name
    return ""


def _meta_charset(body: bytes) -> str:
    return known_codec(_Head.of(body[:8192].decode("latin-1")).charset)


def absolute_url(value: str, base: str) -> str:
    """``value`` resolved against ``base`` if it is a clean http(s) URL, else ""."""
    value = (value or "").strip()
    if not value or any(ch.isspace() or unicodedata.category(ch) == "Cc" or ch in '"<>\\' for ch in value):
        return ""
    url = urljoin(base, value)
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def plain_text(value: str, max_chars: int) -> str:
    """Untrusted text or HTML as one line of plain text, at most ``max_chars`` long."""
    stripper = _TextOnly()
    stripper.feed((value or "")[:MARKUP_CHARS])
    stripper.close()
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in "".join(stripper.parts))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        text = text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(" ,;:.") + "…"
    return text


class _TextOnly(HTMLParser):
    """Keeps character data, drops tags and the contents of script and style."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


@dataclass(frozen=True)
class _Head:
    """What a page says about itself: <title> in the head, <meta name/property>,
    <link rel=canonical> and the meta charset (each the first one given)."""

    title: str
    meta: dict[str, str]
    canonical: str
    charset: str

    @classmethod
    def of(cls, document: str) -> "_Head":
        parser = etree.HTMLParser(encoding="utf-8", recover=True, no_network=True, remove_comments=True, remove_pis=True)
        try:
            root = etree.fromstring(document.encode("utf-8", "replace"), parser)
        except etree.LxmlError:  # nothing libxml2 could recover a document from
            root = None
        if root is None:
            return cls("", {}, "", "")
        title = next(("".join(t.itertext()) for t in root.iterfind("head/title")), "")
        meta: dict[str, str] = {}
        charset = ""
        for tag in root.iter("meta"):
            values = {name.lower(): value for name, value in tag.attrib.items()}
            if not charset and values.get("charset"):
                charset = values["charset"]
            if not charset and values.get("http-equiv", "").lower() == "content-type":
                charset = parse_content_type(values.get("content", ""))[1]
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                meta.setdefault(key, values["content"])
        canonical = next((str(link.get("href", "")) for link in root.iter("link")
                          if "canonical" in str(link.get("rel", "")).lower().split()), "")
        return cls(title, meta, canonical, charset)

    def first_meta(self, *names: str) -> str:
        """The content of the first of ``names`` that the page gives a non-blank value."""
        return next((self.meta[n] for n in names if self.meta.get(n, "").strip()), "")
