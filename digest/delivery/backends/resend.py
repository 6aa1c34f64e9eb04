"""Resend: ``POST /emails/batch``, up to 100 complete emails a call.

The ``Idempotency-Key`` is derived from the batch's Message-IDs, so re-sending the same
messages within Resend's 24 hours (a retry after a timeout whose reply was lost) returns
the first call's ids instead of sending twice. ``x-batch-validation: permissive`` lets
the valid emails go when one is refused: ``data`` lists the created emails in order and
``errors`` names the refused ones by index. Display names are written the way Resend
accepts them (``address_field``, ``from_field``).
"""
from __future__ import annotations

import hashlib
import re
from email.charset import QP, Charset
from email.utils import formataddr
from typing import Sequence

import requests

from ...errors import DeliveryError
from ...render.mime import OutgoingMessage
from .base import RecipientResult, Status
from .base_http import HttpBackend, HttpRequest, reply_text

_QP_UTF8 = Charset("utf-8")
_QP_UTF8.header_encoding = QP


def idempotency_key(messages: Sequence[OutgoingMessage]) -> str:
    """Same messages, same key (Resend allows up to 256 characters)."""
    digest = hashlib.sha256("\n".join(m.message_id for m in messages).encode()).hexdigest()
    return f"digest-batch/{digest}"


class ResendBackend(HttpBackend):
    name = "resend"
    max_batch = 100
    secret_key = "api_key_env"

    def configure(self, session: requests.Session) -> None:
        session.headers["Authorization"] = f"Bearer {self.secret}"

    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        headers = {"Idempotency-Key": idempotency_key(messages), "x-batch-validation": "permissive"}
        return HttpRequest("/emails/batch", json=[self.payload(m) for m in messages], headers=headers)

    @staticmethod
    def payload(message: OutgoingMessage) -> dict[str, object]:
        data: dict[str, object] = {
            "from": from_field(message.factory.settings.newsletter.from_name, message.from_email),
            "to": [address_field(message.member_name, message.recipient)],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
            "headers": {**dict(message.headers), "Message-ID": message.message_id},
        }
        if message.reply_to:
            data["reply_to"] = [message.reply_to]
        return data

    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        reply = self.json_reply(response)
        data = reply.get("data") if isinstance(reply, dict) else None
        errors = reply.get("errors") or [] if isinstance(reply, dict) else []
        refused = {e.get("index"): str(e.get("message", "")) for e in errors if isinstance(e, dict)}
        if not isinstance(data, list) or len(data) + len(refused) != len(messages):
            raise DeliveryError("resend sent an unexpected reply to a batch", reply=reply_text(response))
        created = iter(data)
        return [RecipientResult(m.recipient, Status.PERMANENT, reason=refused[i]) if i in refused
                else RecipientResult(m.recipient, Status.QUEUED, str(next(created).get("id", "")))
                for i, m in enumerate(messages)]


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # RFC 5322 specials: a name holding one must be quoted


def _needs_quoting(name: str) -> bool:
    return bool(_SPECIALS.search(name))


def address_field(name: str, address: str) -> str:
    """A ``to`` address as Resend accepts it: Resend refuses a quoted display name
    (``"Smith, John" <a@b>``, as django-anymail documents), so a name that needs quoting
    is written as an RFC 2047 encoded word instead; a non-ASCII name is encoded anyway."""
    if not name:
        return address
    if _needs_quoting(name):
        return f"{_QP_UTF8.header_encode(name)} <{address}>"
    return formataddr((name, address), charset="utf-8")


def from_field(name: str, address: str) -> str:
    """The ``from`` address as Resend accepts it: it refuses encoded words there (HTTP
    451) as well as quoted names, so the name goes unencoded, and a name that would
    need quoting is left out (the bare address is sent)."""
    if not name or _needs_quoting(name):
        return address
    return f"{name} <{address}>"
