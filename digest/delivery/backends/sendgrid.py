"""SendGrid: ``POST /v3/mail/send``, one message with up to 1,000 personalizations.

Each member is one personalization (so each sees only themselves) whose
``substitutions`` fill the member slots of the shared body (see ``merge.py``); we use
substitutions rather than dynamic templates because those need a template stored at
SendGrid, while our template is rendered here. Per-member headers (Message-ID,
List-Unsubscribe) go in the personalization's ``headers``, our Message-ID also in
``custom_args`` for the event webhook. SendGrid answers 202 with one ``X-Message-Id``
for the request. A 400 that names personalizations refuses those members and sends
nobody, so the others come back TEMPORARY and go out on the retry.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import requests

from ...render.mime import OutgoingMessage
from .base import RecipientResult, Status
from .base_http import HttpBackend, HttpRequest, reply_text
from .merge import MergedBody, header_value, split_for_merge

_PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\.")


def placeholder(key: str) -> str:
    return f"%digest_{key}%"


class SendGridBackend(HttpBackend):
    name = "sendgrid"
    max_batch = 1000
    secret_key = "api_key_env"

    def configure(self, session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {self.secret}"

    def split(self, messages: Sequence[OutgoingMessage]) -> Iterable[Sequence[OutgoingMessage]]:
        return split_for_merge(messages)

    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        first = messages[0]
        body = MergedBody.for_factory(first.factory, placeholder)
        data: dict[str, object] = {
            "personalizations": [self.personalization(m, body) for m in messages],
            "from": _address(first.from_email, first.factory.settings.newsletter.from_name),
            "subject": first.subject,
            "content": [{"type": "text/plain", "value": body.text}, {"type": "text/html", "value": body.html}],
            "headers": {name: value for name, value in first.headers if name != "List-Unsubscribe"},
        }
        if first.reply_to:
            data["reply_to"] = {"email": first.reply_to}
        return HttpRequest("/v3/mail/send", json=data)

    @staticmethod
    def personalization(message: OutgoingMessage, body: MergedBody) -> dict[str, object]:
        return {
            "to": [_address(message.recipient, message.member_name)],
            "substitutions": {placeholder(key): value for key, value in body.values(message).items()},
            "headers": {"Message-ID": message.message_id, "List-Unsubscribe": header_value(message, "List-Unsubscribe")},
            "custom_args": {"digest_message_id": message.message_id},
        }

    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        message_id = response.headers.get("X-Message-Id", "")
        return [RecipientResult(m.recipient, Status.QUEUED, message_id) for m in messages]

    def refused(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        reason = reply_text(response)
        refused = {}
        for error in _errors(response):
            match = _PERSONALIZATION_FIELD.match(str(error.get("field") or ""))
            if match and int(match.group(1)) < len(messages):
                refused[int(match.group(1))] = " ".join(str(error.get("message", "")).split())
        if not refused:
            return super().refused(response, messages)
        return [RecipientResult(m.recipient, Status.PERMANENT, reason=refused[i]) if i in refused
                else RecipientResult(m.recipient, Status.TEMPORARY, reason=f"not sent: SendGrid refused another member of the batch ({reason})")
                for i, m in enumerate(messages)]


def _address(email: str, name: str) -> dict[str, str]:
    return {"email": email, "name": name} if name else {"email": email}


def _errors(response: requests.Response) -> list[dict]:
    try:
        errors = response.json().get("errors", [])
    except (ValueError, AttributeError):
        return []
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []

