"""``digest check --links``: every item link and image, and every link and image written
in an item's body, asked for over HTTP, so a dead link is found before members click it.

Each distinct URL is probed once, many at a time (a ThreadPoolExecutor; the work is
waiting on the network), with HEAD first and GET when a server refuses HEAD (405,
501) or HEAD fails, both within ``[linkcheck] timeout`` seconds in total (a server
dripping its headers is cut off; see ``deadline.py``). A broken URL is reported at
every ``link``/``image`` line and body line using it.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import requests

from ..config import Settings
from ..content import Finding, Issue
from .deadline import Deadline
from .fetch import FetchLimits, new_session, user_agent
from .links import body_links

_RETRY_WITH_GET = {405, 501}


@dataclass(frozen=True)
class LinkTarget:
    """One URL at one place in an item file."""

    url: str
    kind: str  # "link" | "image" | "body link" | "body image"
    path: Path
    line: int | None


def link_targets(issue: Issue) -> list[LinkTarget]:
    """Every http(s) link and image of the issue's items and their bodies, in order, and
    those a translation sets for itself (an inherited one is checked on its item)."""
    targets = []
    for item, version in issue.items_with_translations():
        for kind in ("link", "image"):
            url = getattr(version, kind)
            if url.startswith(("http://", "https://")) and (version is item or url != getattr(item, kind)):
                targets.append(LinkTarget(url, kind, version.path, version.lines.get(kind)))
        if version is item or version.body != item.body:
            for found in body_links(version):
                if found.url.startswith(("http://", "https://")):
                    targets.append(LinkTarget(found.url, f"body {found.kind}", version.path, found.line))
    return targets


def check_links(issue: Issue, settings: Settings, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """An error for each link or image that does not answer with a success status;
    ``progress(done, total)`` is called as each distinct URL is answered."""
    table = settings.table("linkcheck")
    timeout = float(table["timeout"])
    limits = FetchLimits(timeout=timeout, max_redirects=int(settings.table("fetch")["max_redirects"]), user_agent=user_agent(settings))
    targets = link_targets(issue)
    urls = list(dict.fromkeys(t.url for t in targets))
    if not urls:
        return []
    prober = _Prober(limits)
    problems: dict[str, str] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(int(table["workers"]), len(urls)))) as pool:
            futures = {pool.submit(prober.probe, url): url for url in urls}
            for future in as_completed(futures):
                problems[futures[future]] = future.result()
                if progress is not None:
                    progress(len(problems), len(urls))
    finally:
        prober.close()
    return [
        Finding("error", f"{t.kind} {t.url} is broken: {problems[t.url]}", t.path, t.line)
        for t in targets if problems[t.url]
    ]


class _Prober:
    """Probes URLs with one requests.Session per worker thread (a Session is not thread-safe)."""

    def __init__(self, limits: FetchLimits):
        self.limits = limits
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = new_session(self.limits)
            with self._lock:
                self._sessions.append(self._local.session)
        return self._local.session

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    def probe(self, url: str) -> str:
        """"" if ``url`` works, else why not."""
        with Deadline(self.limits.timeout) as deadline:
            return self._ask(url, deadline)

    def _ask(self, url: str, deadline: Deadline) -> str:
        session = self._session()
        try:
            response = session.head(url, allow_redirects=True, timeout=self.limits.timeout)
            if response.status_code not in _RETRY_WITH_GET and not deadline.expired:
                return _status_problem(response.status_code)
        except requests.exceptions.RequestException:
            pass
        try:
            with session.get(url, allow_redirects=True, timeout=self.limits.timeout, stream=True) as response:
                if deadline.expired:  # headers cut short by the deadline: the status means nothing
                    raise requests.exceptions.Timeout()
                return _status_problem(response.status_code)
        except requests.exceptions.RequestException as exc:
            return self._problem(exc, deadline)

    def _problem(self, exc: requests.exceptions.RequestException, deadline: Deadline) -> str:
        """Why a GET failed; once the deadline has cut the connection, a timeout."""
        if deadline.expired or isinstance(exc, requests.exceptions.Timeout):
            return f"no answer within {self.limits.timeout:g} s"
        if isinstance(exc, requests.exceptions.TooManyRedirects):
            return f"more than {self.limits.max_redirects} redirects"
        if isinstance(exc, requests.exceptions.ConnectionError):
            return "cannot connect"
        return f"request failed ({type(exc).__name__})"


def _status_problem(status: int) -> str:
    return f"HTTP {status}" if status >= 400 else ""
