"""Postmark: ``POST /email/batch``, up to 500 complete messages a call.

Postmark answers 200 even when some messages fail, so each entry's ``ErrorCode`` is read:
0 is accepted (with Postmark's ``MessageID``), 406 (inactive recipient) and 300 about a
To address are that member's permanent failure; any other code is a fault of the request
or the account, raised when nothing was accepted and otherwise retried later. A call also
stays under Postmark's 50 MB payload limit by splitting a large batch.
"""
from __future__ import annotations

import re
from typing import ClassVar, Iterable, Sequence

import requests

from ...errors import DeliveryError
from ...render.mime import OutgoingMessage
from .base import RecipientResult, Status
from .base_http import HttpBackend, HttpRequest, reply_text

INACTIVE_RECIPIENT = 406
INVALID_EMAIL_REQUEST = 300
_RECIPIENT_PROBLEM = re.compile(r"^(Invalid|Error\s+parsing)\s+'To'", re.IGNORECASE)
_ENVELOPE_BYTES = 2_000  # headers and JSON punctuation per message, generously


class PostmarkBackend(HttpBackend):
    name = "postmark"
    max_batch = 500
    secret_key = "token_env"
    max_payload_bytes: ClassVar[int] = 50_000_000

    def configure(self, session: requests.Session) -> None:
        session.headers["X-Postmark-Server-Token"] = self.secret

    def split(self, messages: Sequence[OutgoingMessage]) -> Iterable[Sequence[OutgoingMessage]]:
        part: list[OutgoingMessage] = []
        size = 0
        for message in messages:
            message_size = len(message.html.encode()) + len(message.text.encode()) + _ENVELOPE_BYTES
            if part and size + message_size > self.max_payload_bytes:
                yield part
                part, size = [], 0
            part.append(message)
            size += message_size
        if part:
            yield part

    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        return HttpRequest("/email/batch", json=[self.payload(message) for message in messages])

    def payload(self, message: OutgoingMessage) -> dict[str, object]:
        data: dict[str, object] = {
            "From": message.from_header,
            "To": message.to_header,
            "Subject": message.subject,
            "HtmlBody": message.html,
            "TextBody": message.text,
            "Headers": [{"Name": name, "Value": value} for name, value in (*message.headers, ("Message-ID", message.message_id))],
            "MessageStream": str(self.config["message_stream"]),
        }
        if message.reply_to:
            data["ReplyTo"] = message.reply_to
        return data

    def refused(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        # The batch endpoint answers 422 only for faults of the whole request.
        raise DeliveryError(f"postmark refused the batch (HTTP {response.status_code})", reply=reply_text(response))

    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        entries = self.json_reply(response)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise DeliveryError("postmark sent an unexpected reply to a batch", reply=reply_text(response))
        results = [self.result(message, entry) for message, entry in zip(messages, entries)]
        faults = [entry for result, entry in zip(results, entries) if result is None]
        if faults and len(faults) == len(entries):
            raise DeliveryError(f"postmark refused every message (ErrorCode {faults[0].get('ErrorCode')})",
                                reply=str(faults[0].get("Message", "")))
        return [result or RecipientResult(message.recipient, Status.TEMPORARY, reason=_reason(entry))
                for message, result, entry in zip(messages, results, entries)]

    def result(self, message: OutgoingMessage, entry: dict) -> RecipientResult | None:
        """The member's result, or None when the entry reports a fault of the request."""
        code = entry.get("ErrorCode", 0)
        text = str(entry.get("Message", ""))
        if code == 0:
            status = Status.QUEUED if "delivery may be delayed" in text else Status.SENT
            return RecipientResult(message.recipient, status, str(entry.get("MessageID", "")))
        if code == INACTIVE_RECIPIENT or (code == INVALID_EMAIL_REQUEST and _RECIPIENT_PROBLEM.match(text)):
            return RecipientResult(message.recipient, Status.PERMANENT, reason=_reason(entry))
        return None


def _reason(entry: dict) -> str:
    return f"ErrorCode {entry.get('ErrorCode')}: {' '.join(str(entry.get('Message', '')).split())}"
