"""MIME messages, built once per issue as a skeleton and filled per member.

A new ``EmailMessage`` per member re-encodes every header and part; at 100,000 members
that is the slow path. Here the fixed headers are folded and encoded once (with the
stdlib's policy, so RFC 2047 and line lengths are the stdlib's), the bodies' literal
text is quoted-printable encoded once, and a member costs the encoding of its few slot
values, a join, and a few header lines. The text part is ``format=flowed; delsp=yes``.

Each literal and each slot value is encoded separately and joined with soft line breaks
(``=`` CRLF), which decoders remove; so the merged body decodes exactly to the merged
text. Bodies are quoted-printable (no ``8bit`` that needs 8BITMIME), lines end in CRLF
and stay under 78 octets. The boundary contains ``=_``, which quoted-printable output
can never contain.
"""
from __future__ import annotations

import binascii
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.utils import format_datetime, formataddr
from functools import cached_property
from typing import Callable, Mapping
from urllib.parse import quote, urlsplit

from ..addresses import check_header_value, normalise_address
from ..config import Settings
from ..i18n import match_language
from ..members.tokens import list_id_for, unsubscribe_url
from .flowed import CONTENT_TYPE_PARAMS as FLOWED_PARAMS
from .issue import PREFERENCES_FIELD, UNSUBSCRIBE_FIELD, RenderedIssue
from .slots import SlotText, escape_html

CRLF = "\r\n"
SOFT_BREAK = b"=\r\n"
_FOLD = policy.SMTP.clone(max_line_length=78)


def fold_header(name: str, value: str) -> str:
    """One header, RFC 2047-encoded where needed and folded, ending in CRLF."""
    check_header_value(name, value)
    return _FOLD.header_factory(name, value).fold(policy=_FOLD)


def address_header(name: str, display: str, address: str) -> str:
    """``Name <address>`` with the display name encoded when it is not ASCII."""
    check_header_value(name, display)
    value = formataddr((display, address))
    if value.isascii() and len(name) + len(value) + 2 <= 78:
        return f"{name}: {value}{CRLF}"
    return fold_header(name, value)


def encode_qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends: 7-bit safe, short lines, readable."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(normalised.encode("utf-8"), quotetabs=False, istext=True)
    return encoded.replace(b"\n", b"\r\n")


class EncodedBody:
    """A body whose literal parts are encoded once; ``encode`` adds the member's values."""

    def __init__(self, text: SlotText, escape: Callable[[str], str] | None):
        self.slot_ids = text.slot_ids
        self.literals = [encode_qp(literal) for literal in text.literals]
        self.escape = escape

    def encode(self, values: list[str]) -> bytes:
        out = [self.literals[0]]
        for slot_id, literal in zip(self.slot_ids, self.literals[1:]):
            value = values[slot_id]
            out += (SOFT_BREAK, encode_qp(self.escape(value) if self.escape else value), SOFT_BREAK, literal)
        return b"".join(out)


@dataclass(eq=False)
class OutgoingMessage:
    """One member's message: the fields HTTP APIs want, the raw bytes SMTP wants.
    Bodies are made on first use, so a backend pays only for what it reads."""

    recipient: str
    member_name: str
    to_header: str
    subject: str
    message_id: str
    headers: tuple[tuple[str, str], ...]
    factory: "MessageFactory" = field(repr=False)
    values: list[str] = field(repr=False)
    head: str = field(repr=False)

    @property
    def from_header(self) -> str:
        return self.factory.from_header

    @property
    def from_email(self) -> str:
        return self.factory.from_email

    @property
    def reply_to(self) -> str:
        return self.factory.reply_to

    @cached_property
    def html(self) -> str:
        return self.factory.rendered.html.merge(self.values, escape_html)

    @cached_property
    def text(self) -> str:
        return self.factory.rendered.text.merge(self.values)

    @cached_property
    def raw(self) -> bytes:
        return self.factory.raw_message(self)


class MessageFactory:
    """Turns a RenderedIssue into per-member messages; build it once per send."""

    def __init__(self, rendered: RenderedIssue, settings: Settings, secret: str, subject: str | None = None):
        newsletter = settings.newsletter
        self.rendered = rendered
        self.settings = settings
        self.secret = secret
        self.from_email = normalise_address(newsletter.from_email)
        self.domain = self.from_email.rpartition("@")[2]
        self.subject = check_header_value("Subject", subject if subject is not None else rendered.subject)
        self.from_header = formataddr((check_header_value("From", newsletter.from_name), self.from_email), charset="utf-8")
        self.reply_to = normalise_address(newsletter.reply_to) if newsletter.reply_to else ""
        self.list_id_header = f"{newsletter.name} <{check_header_value('List-Id', list_id_for(settings))}>"
        self.language = check_header_value("Content-Language", rendered.language)
        self.mailto = normalise_address(newsletter.unsubscribe_mailto) if newsletter.unsubscribe_mailto else ""
        self.boundary = f"=_digest_{secrets.token_hex(12)}"
        self._fixed_headers = "".join((
            address_header("From", newsletter.from_name, self.from_email),
            address_header("Reply-To", "", self.reply_to) if self.reply_to else "",
            fold_header("Subject", self.subject),
            "MIME-Version: 1.0", CRLF,
            "Content-Language: ", self.language, CRLF,
            fold_header("List-Id", self.list_id_header),
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click", CRLF,
        ))
        self._content_type = f'Content-Type: multipart/alternative; boundary="{self.boundary}"{CRLF}'
        part_head = CRLF + "--" + self.boundary + CRLF + 'Content-Type: text/{}; charset="utf-8"{}' + CRLF
        part_head += "Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF
        # The text part is wrapped as format=flowed (render/flowed.py), so phones reflow it.
        self._text_head = part_head.format("plain", "; " + FLOWED_PARAMS).encode("ascii")
        self._html_head = part_head.format("html", "").encode("ascii")
        self._tail = f"{CRLF}--{self.boundary}--{CRLF}".encode("ascii")
        self._text_body = EncodedBody(rendered.text, None)
        self._html_body = EncodedBody(rendered.html, escape_html)
        self._date_second = -1
        self._date_header = ""

    def unsubscribe_url(self, email: str) -> str:
        """The member's link, naming this edition's language so the page speaks it."""
        return with_language(unsubscribe_url(self.settings, self.secret, email), self.language)

    @cached_property
    def _sealer(self):
        from ..members.member_tokens import TokenSealer

        return TokenSealer(self.secret)

    def preferences_url(self, email: str) -> str:
        """The member's preference centre (an opaque token, no address in the URL)."""
        from ..members.member_tokens import preferences_url

        return preferences_url(self.settings, self._sealer, email)

    def personalise(self, email: str, name: str = "", fields: Mapping[str, str] | None = None,
                    message_id: str | None = None, language: str = "") -> OutgoingMessage:
        """The message for one member. ``fields`` are the member's other columns,
        available to templates as ``member.<column>``. ``message_id`` reuses the id of
        an earlier attempt, so a resent message is recognisably the same one. This
        factory is one edition, so ``language`` changes nothing (``MessageFactories``
        chooses by it)."""
        address = normalise_address(email)
        check_header_value("To", name)
        link = self.unsubscribe_url(address)
        values = self.rendered.slot_values({**(fields or {}), "email": address, "name": name, UNSUBSCRIBE_FIELD: link,
                                            PREFERENCES_FIELD: self.preferences_url(address)})
        if message_id is None:
            message_id = f"<{time.time_ns():x}.{secrets.token_hex(8)}@{self.domain}>"
        else:
            check_header_value("Message-ID", message_id)
        list_unsubscribe = f"<{link}>" + (f", <mailto:{self.mailto}?subject=unsubscribe>" if self.mailto else "")
        head = "".join((
            self._fixed_headers,
            address_header("To", name, address),
            "Date: ", self._date(), CRLF,
            "Message-ID: ", message_id, CRLF,
            "List-Unsubscribe: ", list_unsubscribe.replace(", <", f",{CRLF} <"), CRLF,
            self._content_type,
        ))
        return OutgoingMessage(
            recipient=address,
            member_name=name,
            to_header=formataddr((name, address), charset="utf-8"),
            subject=self.subject,
            message_id=message_id,
            headers=(
                ("List-Unsubscribe", list_unsubscribe),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                ("List-Id", self.list_id_header),
                ("Content-Language", self.language),
            ),
            factory=self,
            values=values,
            head=head,
        )

    def raw_message(self, message: OutgoingMessage) -> bytes:
        return b"".join((
            message.head.encode("ascii"),
            self._text_head, self._text_body.encode(message.values),
            self._html_head, self._html_body.encode(message.values),
            self._tail,
        ))

    def _date(self) -> str:
        now = int(time.time())
        if now != self._date_second:
            self._date_second = now
            self._date_header = format_datetime(datetime.fromtimestamp(now, timezone.utc))
        return self._date_header


def with_language(url: str, language: str) -> str:
    """``url`` with ``lang=<language>`` in its query (not signed: it only picks the
    language of the page, and changes nothing a forged value could abuse)."""
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}lang={quote(language, safe='')}"


class MessageFactories:
    """One MessageFactory per edition (language) of an issue: ``personalise(...,
    language=member.language)`` picks the member's (``ja-JP`` gets ``ja``; empty or
    unknown gets the default), so every member costs the same cheap merge as before."""

    def __init__(self, editions: Mapping[str, RenderedIssue], settings: Settings, secret: str, subject_prefix: str = ""):
        if not editions:
            raise ValueError("an issue has at least one edition")
        self.factories = {language: MessageFactory(rendered, settings, secret, subject_prefix + rendered.subject)
                          for language, rendered in editions.items()}
        self.languages = tuple(self.factories)
        self.default = self.factories[self.languages[0]]

    @property
    def rendered(self) -> RenderedIssue:
        """The default edition (its ``issue.slug`` names the send)."""
        return self.default.rendered

    @property
    def subject(self) -> str:
        return self.default.subject

    def for_language(self, language: str) -> MessageFactory:
        return self.factories[match_language(language, self.languages, self.languages[0])]

    def personalise(self, email: str, name: str = "", fields: Mapping[str, str] | None = None,
                    message_id: str | None = None, language: str = "") -> OutgoingMessage:
        """The message for one member, in the edition for their ``language``."""
        return self.for_language(language).personalise(email, name, fields, message_id=message_id)
