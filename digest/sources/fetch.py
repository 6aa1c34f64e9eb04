"""Fetching other people's pages and feeds with limits, so a hostile or broken server
cannot hang a command, fill memory or bounce it around forever.

Every request names us in its User-Agent, follows at most ``[fetch] max_redirects``
redirects, gives up soon after ``[fetch] timeout`` seconds in total (not just per
read, so a server dripping one byte a second is cut off too), and reads at most
``[fetch] max_bytes`` of the body.
"""
from __future__ import annotations

import codecs
import time
from dataclasses import dataclass
from email.message import Message

import requests
import urllib3

from .. import __version__
from ..config import Settings
from ..errors import FetchError

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
    session = requests.Session()
    session.headers["User-Agent"] = limits.user_agent
    session.max_redirects = limits.max_redirects
    return session


def fetch(url: str, limits: FetchLimits, accept: str = "*/*", media_types: tuple[str, ...] = ()) -> Fetched:
    """GET ``url`` within ``limits``; a failure, an HTTP error status or (when
    ``media_types`` is given) another Content-Type is a FetchError naming the URL."""
    session = new_session(limits)
    deadline = time.monotonic() + limits.timeout
    try:
        with session.get(url, headers={"Accept": accept}, timeout=limits.timeout, stream=True) as response:
            if response.status_code >= 400:
                raise FetchError(f"HTTP {response.status_code} {response.reason or ''}".rstrip(), url)
            content_type, charset = parse_content_type(response.headers.get("Content-Type", ""))
            if media_types and content_type not in media_types:
                raise FetchError(f"Content-Type is {content_type}, not {' or '.join(media_types)}", url)
            body, truncated = _read_capped(response, limits.max_bytes, deadline)
            return Fetched(url, response.url, response.status_code, content_type, charset, body, truncated)
    except requests.exceptions.TooManyRedirects:
        raise FetchError(f"more than {limits.max_redirects} redirects (a redirect loop?)", url) from None
    except (requests.exceptions.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise FetchError(f"timed out after {limits.timeout:g} s", url) from None
    except requests.exceptions.InvalidSchema:
        raise FetchError("only http and https URLs can be fetched", url) from None
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidURL):
        raise FetchError("not a valid URL", url) from None
    except requests.exceptions.ConnectionError as exc:
        raise FetchError(f"cannot connect ({_reason(exc)})", url) from None
    except requests.exceptions.RequestException as exc:
        raise FetchError(f"request failed ({_reason(exc)})", url) from None
    except urllib3.exceptions.HTTPError as exc:
        raise FetchError(f"connection broken while reading ({_reason(exc)})", url) from None
    finally:
        session.close()


def _read_capped(response: requests.Response, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    """Read with ``read1`` (whatever has arrived) so the deadline is checked between
    small reads; iter_content would wait for a full chunk from a dripping server."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise requests.exceptions.Timeout()
        chunk = response.raw.read1(_CHUNK, decode_content=True)
        if not chunk:
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
