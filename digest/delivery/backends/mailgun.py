"""Mailgun: ``POST /v3/{domain}/messages``, one message to up to 1,000 recipients.

Batch sending with ``recipient-variables``: Mailgun then sends each recipient their own
copy (without them every recipient would see the whole To list) and fills
``%recipient.KEY%`` from that recipient's variables. The body is the issue with its
member slots as placeholders (see ``merge.py``); the per-member headers (Message-ID,
List-Unsubscribe) are ``h:`` fields filled the same way, and ``v:digest-message-id``
carries our Message-ID to Mailgun's webhooks. Mailgun answers with one id for the
whole batch, recorded for every member ("Queued": delivery is reported by webhooks).
"""
from __future__ import annotations

import json
from typing import Iterable, Sequence
from urllib.parse import quote

import requests

from ...errors import ConfigError, DeliveryError
from ...render.mime import OutgoingMessage
from .base import RecipientResult, Status
from .base_http import HttpBackend, HttpRequest, reply_text
from .merge import MergedBody, header_value, split_for_merge


def placeholder(key: str) -> str:
    return f"%recipient.{key}%"


class MailgunBackend(HttpBackend):
    name = "mailgun"
    max_batch = 1000
    secret_key = "api_key_env"

    def __init__(self, settings):
        super().__init__(settings)
        self.domain = str(self.config["domain"]).strip() or settings.newsletter.from_email.rpartition("@")[2]
        if not self.domain or "/" in self.domain:
            raise ConfigError(f"[mailgun] domain {self.domain!r} is not a sending domain")

    def configure(self, session: requests.Session) -> None:
        session.auth = ("api", self.secret)

    def describe(self) -> str:
        return f"mailgun ({self.base_url}, domain {self.domain})"

    def split(self, messages: Sequence[OutgoingMessage]) -> Iterable[Sequence[OutgoingMessage]]:
        return split_for_merge(messages)

    def build_request(self, messages: Sequence[OutgoingMessage]) -> HttpRequest:
        first = messages[0]
        body = MergedBody.for_factory(first.factory, placeholder)
        form: list[tuple[str, str]] = [("from", first.from_header), *(("to", m.to_header) for m in messages),
                                       ("subject", first.subject), ("text", body.text), ("html", body.html)]
        if first.reply_to:
            form.append(("h:Reply-To", first.reply_to))
        form += [
            ("h:Message-Id", placeholder(body.name("message_id"))),
            ("h:List-Unsubscribe", placeholder(body.name("list_unsubscribe"))),
            ("h:List-Unsubscribe-Post", header_value(first, "List-Unsubscribe-Post")),
            ("h:List-Id", header_value(first, "List-Id")),
            ("h:Content-Language", header_value(first, "Content-Language")),
            ("v:digest-message-id", placeholder(body.name("message_id"))),
            ("recipient-variables", json.dumps({m.recipient: self.variables(m, body) for m in messages}, ensure_ascii=False)),
        ]
        return HttpRequest(f"/v3/{quote(self.domain, safe='')}/messages", form=form)

    @staticmethod
    def variables(message: OutgoingMessage, body: MergedBody) -> dict[str, str]:
        return {**body.values(message), body.name("message_id"): message.message_id,
                body.name("list_unsubscribe"): header_value(message, "List-Unsubscribe")}

    def parse(self, response: requests.Response, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        reply = self.json_reply(response)
        if not isinstance(reply, dict) or "id" not in reply:
            raise DeliveryError("mailgun sent an unexpected reply", reply=reply_text(response))
        return [RecipientResult(m.recipient, Status.QUEUED, str(reply["id"])) for m in messages]
