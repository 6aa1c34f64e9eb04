"""What every HTTP mail API backend shares (anymail's ``base_requests.py`` for us).

A provider module writes only its endpoint, its payload and how to read the reply; this
module owns the ``requests.Session``, the timeout, the secret from the environment, and
the one mapping of HTTP outcomes onto our errors, so every provider fails the same way:

- connection errors, timeouts, HTTP 429 and 5xx raise ``TemporaryDeliveryError``
  (with ``retry_after`` from a ``Retry-After`` header, in seconds or as an HTTP date);
- HTTP 401/403 raise ``DeliveryError``: the key is wrong and no retry will help;
- HTTP 400/422 mean "this request is refused": for a single message that is a permanent
  failure of that recipient, for a batch the provider decides (``refused``), by default
  a ``DeliveryError`` because the whole request was malformed;
- once part of a ``send_batch`` was accepted, a later failure comes back as
  ``TEMPORARY`` results instead of an exception, so accepted mail is never forgotten.
"""
from __future__ import annotations

import json
import os
from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Iterable, Mapping, Sequence

import requests

from ...config import Settings
from ...errors import ConfigError, DeliveryError, TemporaryDeliveryError
from ...render.mime import OutgoingMessage
from .base import Backend, RecipientResult, Status

REPLY_LIMIT = 300
_REFUSED = {400, 422}


@dataclass(frozen=True)
class HttpRequest:
    """One call to a provider: a path under the base URL and either JSON or a form."""

    path: str
    json: Any = None
    form: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)


def reply_text(response: requests.Response) -> str:
    """The provider's reply, on one line and cut short: enough to act on, never a flood."""
    text = " ".join(response.text.split())
    return text if len(text) <= REPLY_LIMIT else text[:REPLY_LIMIT] + "..."


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def secret_from_environment(table: str, key: str, variable: str) -> str:
    """The secret held by the environment variable config names; ConfigError if unset."""
    value = os.environ.get(variable, "").strip()
    if not variable or not value:
        raise ConfigError(f"environment variable {variable or '(none)'} is not set: the {table} backend "
                          f"reads its secret from the variable named by [{table}] {key}")
    return value


class HttpBackend(Backend):
    """Base for HTTP API backends: subclasses give ``build_request`` and ``parse``."""

    secret_key: ClassVar[str] = ""  # the config key naming the secret's variable

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.config = settings.table(self.name)
        self.base_url = str(self.config["base_url"]).rstrip("/")
        self.timeout = float(self.config["timeout"])
        self.secret = self.read_secret(self.secret_key) if self.secret_key else ""
        self.session: requests.Session | None = None

    def read_secret(self, key: str) -> str:
        return secret_from_environment(self.name, key, str(self.config[key]))

    def describe(self) -> str:
        return f"{self.name} ({self.base_url})"

    def open(self) -> None:
        self.session = requests.Session()
        self.configure(self.session)

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def configure(self, session: requests.Session) -> None:
        """Put the provider's authentication on the session."""

    # The fixed flow: split -> build_request -> post -> check status -> parse.

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        if len(messages) > self.max_batch:
            raise ValueError(f"{self.name} takes at most {self.max_batch} messages a batch, got {len(messages)}")
        results: dict[int, RecipientResult] = {}
        parts = list(self.split(messages))
        for number, part in enumerate(parts):
            try:
                part_results = self.send_part(part)
            except DeliveryError as exc:
                if not results:
                    raise
                for rest in parts[number:]:
                    results.update((id(m), RecipientResult(m.recipient, Status.TEMPORARY, reason=f"not sent: {exc}")) for m in rest)
                break
            results.update((id(m), r) for m, r in zip(part, part_results))
        return [results[id(message)] for message in messages]

    def split(self, messages: Sequence[OutgoingMessage]) -> Iterable[Sequence[OutgoingMessage]]:
        """Requests a batch needs; one unless the provider needs several."""
        return [messages] if messages else []

    def send_part(self, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        response = self.post(self.build_request(messages))
        if response.status_code in _REFUSED:
            return self.refused(response, messages)
        self.raise_for_status(response)
        results = self.parse(response, messages)
        if len(results) != len(messages):
            raise DeliveryError(f"{self.name} answered for {len(results)} of {len(messages)} messages", reply=reply_text(response))
        return results

    @abstractmethod
    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        """The provider's request for messages that go in one call."""

    @abstractmethod
    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        """Results from a 2xx reply, one per message in order."""

    def refused(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        """HTTP 400/422: one message is refused for good; a refused batch is an error."""
        reason = reply_text(response)
        if len(messages) == 1:
            return [RecipientResult(messages[0].recipient, Status.PERMANENT, reason=reason)]
        raise DeliveryError(f"{self.name} refused the request (HTTP {response.status_code})", reply=reason)

    def post(self, request: HttpRequest) -> requests.Response:
        if self.session is None:
            self.open()
        assert self.session is not None
        url = self.base_url + request.path
        headers = dict(request.headers)
        body: bytes | None = None
        if request.json is not None:
            body = json.dumps(request.json, ensure_ascii=False).encode("utf-8")
            headers.update({"Content-Type": "application/json", "Accept": "application/json"})
            headers = self.sign(url, headers, body)
        try:
            if body is not None:
                return self.session.post(url, data=body, headers=headers, timeout=self.timeout)
            return self.session.post(url, files=[(k, (None, v)) for k, v in request.form], headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise TemporaryDeliveryError(f"{self.name}: no answer from {url} within {self.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise TemporaryDeliveryError(f"{self.name}: cannot reach {url} ({type(exc).__name__})") from None

    def sign(self, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """Headers to send with a JSON body; providers that sign requests add them here."""
        return headers

    def raise_for_status(self, response: requests.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        reply = reply_text(response)
        if status == 429 or status >= 500:
            raise TemporaryDeliveryError(f"{self.name} is not accepting mail now (HTTP {status})", reply=reply,
                                         retry_after=retry_after(response.headers.get("Retry-After")))
        if status in (401, 403):
            raise DeliveryError(f"{self.name} refused the credentials (HTTP {status}): check the key in "
                                f"${self.config.get(self.secret_key, '')} and the sender's domain", reply=reply)
        raise DeliveryError(f"{self.name} answered HTTP {status} for {response.url}", reply=reply)

    def json_reply(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise DeliveryError(f"{self.name} sent a reply that is not JSON (HTTP {response.status_code})",
                                reply=reply_text(response)) from None
