"""The contract every delivery backend keeps (modelled on django-anymail's base backend).

A backend takes a batch of personalised messages and returns one ``RecipientResult``
per message, in order: sent/queued with the provider's id, or a temporary or permanent
failure with the provider's reason. A failure of the whole batch (connection dropped,
HTTP 429/5xx, bad credentials) is raised instead: ``TemporaryDeliveryError`` when a
retry may work, ``DeliveryError`` when it will not. The send loop owns retries, rate and
the ledger; a backend only talks to its provider.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Sequence

from ...config import Settings
from ...render.mime import OutgoingMessage


class Status(str, enum.Enum):
    SENT = "sent"            # accepted for delivery
    QUEUED = "queued"        # accepted, delivery scheduled by the provider
    TEMPORARY = "temporary"  # refused for now: retry later
    PERMANENT = "permanent"  # refused for good: do not retry

    @property
    def delivered(self) -> bool:
        return self in (Status.SENT, Status.QUEUED)


@dataclass(frozen=True)
class RecipientResult:
    recipient: str
    status: Status
    message_id: str = ""
    reason: str = ""


class Backend(ABC):
    """Base class: subclasses set ``name`` and ``max_batch`` and implement ``send_batch``."""

    name: ClassVar[str] = ""
    max_batch: ClassVar[int] = 1
    needs_raw: ClassVar[bool] = False  # True when the backend sends RFC 5322 bytes
    # True when the protocol acknowledges each message (SMTP, a file written): the send
    # loop then hands over one message at a time and records each answer before the next,
    # so a crash can duplicate at most the one message on the wire per connection.
    acknowledges_each: ClassVar[bool] = False

    def __init__(self, settings: Settings):
        self.settings = settings

    def open(self) -> None:
        """Acquire connections or sessions; called once before the first batch."""

    def close(self) -> None:
        """Release what ``open`` acquired; called once, also after errors."""

    def __enter__(self) -> "Backend":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        """Deliver up to ``max_batch`` messages; one result per message, same order."""

    def was_delivered(self, issue_slug: str, recipient: str, message_id: str) -> bool:
        """After a crash: can the backend prove it accepted this message (left ``sending``
        in the ledger)? False means "cannot tell", and the send loop sends it again."""
        return False

    def earlier_sends(self, issue_slug: str) -> int:
        """How many messages of this issue the backend can show were sent before (the
        outbox counts its files); 0 when it cannot tell. Used when the ledger has no
        record of the issue, to refuse sending everyone again by mistake."""
        return 0

    def for_test(self) -> "Backend":
        """The backend a ``--test`` message goes through: this one, except where test
        messages must be kept apart from members' (the outbox's ``test/`` folder)."""
        return self

    def describe(self) -> str:
        """Where mail goes, for the confirmation prompt (never includes secrets)."""
        return self.name
