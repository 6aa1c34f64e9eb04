"""Items from elsewhere: a web page's title, description and Open Graph image, and the
entries of RSS/Atom feeds.

Everything read here is untrusted. It leaves this module as plain text (tags
stripped, entities decoded, control characters and line breaks removed, length
capped) and as absolute http(s) URLs, so the writer only has to escape it for TOML
and Markdown.
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

import feedparser

from ..errors import FetchError
from .fetch import FetchLimits, Fetched, fetch, known_codec, parse_content_type

HTML_TYPES = ("text/html", "application/xhtml+xml")
TITLE_CHARS = 200
DESCRIPTION_CHARS = 600
ALT_CHARS = 300


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
    parser = _HeadParser()
    parser.feed(html)
    parser.close()
    first = parser.first_meta
    link = absolute_url(parser.canonical, base_url) or absolute_url(first("og:url"), base_url) or base_url
    image = absolute_url(first("og:image:secure_url", "og:image", "og:image:url", "twitter:image"), base_url)
    return PageInfo(
        link=link,
        title=plain_text(first("og:title", "twitter:title") or parser.title, TITLE_CHARS),
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
    if not feed.entries and (feed.bozo or not feed.version):
        reason = feed.get("bozo_exception") or "no entries"
        raise FetchError(f"not an RSS or Atom feed ({plain_text(str(reason), 120)})", fetched.url)
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
    parser = _HeadParser()
    parser.feed(body[:8192].decode("latin-1"))
    return known_codec(parser.charset)


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
    stripper.feed(value or "")
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


class _HeadParser(HTMLParser):
    """Collects <title>, <meta name/property>, <link rel=canonical> and the meta charset."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.charset = ""
        self._title: list[str] | None = None
        self._title_done = False
        self._in_body = False
        self._hidden = 0

    @property
    def title(self) -> str:
        return "".join(self._title or [])

    def first_meta(self, *names: str) -> str:
        """The content of the first of ``names`` that the page gives a non-blank value."""
        return next((self.meta[n] for n in names if self.meta.get(n, "").strip()), "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "body":
            self._in_body = True
        elif tag == "title" and not self._in_body and not self._title_done:
            self._title = []
        elif tag == "meta":
            self._meta(values)
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split() and not self.canonical:
            self.canonical = values.get("href", "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("script", "style"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        elif tag == "title" and self._title is not None:
            self._title_done = True

    def handle_data(self, data: str) -> None:
        if self._title is not None and not self._title_done and not self._hidden:
            self._title.append(data)

    def _meta(self, values: dict[str, str]) -> None:
        if values.get("charset") and not self.charset:
            self.charset = values["charset"]
        if values.get("http-equiv", "").lower() == "content-type" and not self.charset:
            self.charset = parse_content_type(values.get("content", ""))[1]
        key = (values.get("property") or values.get("name") or "").strip().lower()
        if key and "content" in values:
            self.meta.setdefault(key, values["content"])
