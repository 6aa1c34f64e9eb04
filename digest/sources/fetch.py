"""Fetching other people's pages and feeds with limits, so a hostile or broken server
cannot hang a command, fill memory or bounce it around forever.

Every request names us in its User-Agent, follows at most ``[fetch] max_redirects``
redirects, gives up soon after ``[fetch] timeout`` seconds in total (not just per
read, so a server dripping its headers or body one byte a second is cut off too; see
``deadline.py``), and reads at most ``[fetch] max_bytes`` of the body.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass
from email.message import Message

import requests
import urllib3

from .. import __version__
from ..config import Settings
from ..errors import FetchError
from .deadline import Deadline, DeadlineAdapter

_CHUNK = 16_384


@dataclass(frozen=True)
class FetchLimits:
    """How long to wait, how much to read and how far to be redirected."""

    timeout: float = 10.0
    max_bytes: int = 2_000_000
    max_redirects: int = 5
    user_agent: str = f"digest/{__version__}"

    @classmethod
    def from_settings(cls, settings: Settings) -> "FetchLimits":
        table = settings.table("fetch")
        return cls(
            timeout=float(table["timeout"]),
            max_bytes=int(table["max_bytes"]),
            max_redirects=int(table["max_redirects"]),
            user_agent=user_agent(settings),
        )


@dataclass(frozen=True)
class Fetched:
    """A response body read within the limits, with what is needed to decode it."""

    url: str
    final_url: str
    status: int
    content_type: str
    charset: str
    body: bytes
    truncated: bool


def user_agent(settings: Settings) -> str:
    """Say who we are and where to find us, as polite crawlers do."""
    return f"digest/{__version__} (newsletter tool; +{settings.newsletter.base_url})"


def new_session(limits: FetchLimits) -> requests.Session:
    """A session whose requests a ``Deadline`` can cut off."""
    session = requests.Session()
    session.headers["User-Agent"] = limits.user_agent
    session.max_redirects = limits.max_redirects
    for prefix in ("http://", "https://"):
        session.mount(prefix, DeadlineAdapter())
    return session


def fetch(url: str, limits: FetchLimits, accept: str = "*/*", media_types: tuple[str, ...] = ()) -> Fetched:
    """GET ``url`` within ``limits``; a failure, an HTTP error status or (when
    ``media_types`` is given) another Content-Type is a FetchError naming the URL."""
    session = new_session(limits)
    deadline = Deadline(limits.timeout)
    try:
        with deadline, session.get(url, headers={"Accept": accept}, timeout=limits.timeout, stream=True) as response:
            if deadline.expired:  # headers cut short by the deadline: nothing in them is true
                raise requests.exceptions.Timeout()
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason or ''}".rstrip(), url)
            content_type, charset = parse_content_type(response.headers.get("Content-Type", ""))
            if media_types and content_type not in media_types:
                raise FetchError(f"Content-Type is {content_type}, not {' or '.join(media_types)}", url)
            body, truncated = _read_capped(response, limits.max_bytes, deadline)
            return Fetched(url, response.url, response.status_code, content_type, charset, body, truncated)
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise FetchError(_why(exc, url, limits, deadline.expired), url) from None
    finally:
        session.close()


def _why(exc: Exception, url: str, limits: FetchLimits, expired: bool) -> str:
    """One line on why a fetch failed; after the deadline, whatever broke is a timeout."""
    if expired or isinstance(exc, (requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError)):
        return f"timed out after {limits.timeout:g} s"
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"more than {limits.max_redirects} redirects (a redirect loop?)"
    if isinstance(exc, requests.exceptions.MissingSchema):
        return f"not a valid URL: no http:// or https:// (did you mean https://{url.strip().lstrip('/')}?)"
    if isinstance(exc, requests.exceptions.InvalidSchema):
        return "only http and https URLs can be fetched"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return "not a valid URL"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"cannot connect ({_reason(exc)})"
    if isinstance(exc, requests.exceptions.RequestException):
        return f"request failed ({_reason(exc)})"
    return f"connection broken while reading ({_reason(exc)})"


def _read_capped(response: requests.Response, max_bytes: int, deadline: Deadline) -> tuple[bytes, bool]:
    """Read with ``read1`` (whatever has arrived) up to ``max_bytes``. A body that ends
    because the deadline shut the socket is a timeout, not a short page."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if deadline.expired:
            raise requests.exceptions.Timeout()
        chunk = response.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            if deadline.expired:
                raise requests.exceptions.Timeout()
            return b"".join(chunks), False
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True


def parse_content_type(header: str) -> tuple[str, str]:
    """Media type (lower case) and a charset Python knows, or "" for either."""
    message = Message()
    message["Content-Type"] = header or "application/octet-stream"
    charset = message.get_param("charset") or ""
    if isinstance(charset, tuple):
        charset = ""
    return message.get_content_type(), known_codec(str(charset))


def known_codec(name: str) -> str:
    try:
        return codecs.lookup(name.strip()).name if name.strip() else ""
    except LookupError:
        return ""


def _reason(exc: Exception) -> str:
    """The innermost cause, short enough for one line."""
    text = str(exc.args[0] if exc.args else exc)
    return text.split(": ")[-1].strip("')( ")[:200] or type(exc).__name__
