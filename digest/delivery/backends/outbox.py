"""The default backend: one ``.eml`` file per member in a folder, no server needed.

Files are written atomically (temporary name, then rename), so a crash never leaves a
half-written message, and a re-send of the same member replaces rather than duplicates.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Sequence

from ...errors import DeliveryError
from ...render.mime import OutgoingMessage
from ..dkim import signer_for
from .base import Backend, RecipientResult, Status

_UNSAFE = re.compile(r"[^A-Za-z0-9@._+-]")


class OutboxBackend(Backend):
    name = "outbox"
    max_batch = 100
    needs_raw = True
    acknowledges_each = True

    def __init__(self, settings, test: bool = False):
        super().__init__(settings)
        self.folder = settings.path("outbox")
        self.test = test
        self.sign = signer_for(settings)

    def for_test(self) -> "OutboxBackend":
        """Test messages go to ``<outbox>/<slug>/test/``, never over a member's file."""
        return OutboxBackend(self.settings, test=True)

    def describe(self) -> str:
        return f"outbox ({self.folder}{', <issue>/test/' if self.test else ''})"

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        results = []
        for message in messages:
            target = self.path_for(message)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.with_suffix(".eml.tmp")
                temporary.write_bytes(self.sign(message.raw))
                os.replace(temporary, target)
            except OSError as exc:
                raise DeliveryError(f"cannot write to the outbox {target.parent} ({exc.strerror})") from None
            results.append(RecipientResult(message.recipient, Status.SENT, message.message_id))
        return results

    def was_delivered(self, issue_slug: str, recipient: str, message_id: str) -> bool:
        """Files are renamed into place whole, so one holding our Message-ID was delivered."""
        try:
            with self.file_for(issue_slug, recipient).open("rb") as handle:
                for line in handle:
                    if line in (b"\r\n", b"\n"):
                        return False
                    if line.lower().startswith(b"message-id:"):
                        return line.split(b":", 1)[1].strip().decode("ascii", "replace") == message_id
        except OSError:
            return False
        return False

    def earlier_sends(self, issue_slug: str) -> int:
        """Members' files already in the issue's outbox folder (test messages not counted)."""
        folder = self.folder / issue_slug
        return sum(1 for _ in folder.glob("*.eml")) if folder.is_dir() else 0

    def path_for(self, message: OutgoingMessage) -> Path:
        return self.file_for(message.factory.rendered.issue.slug, message.recipient)

    def file_for(self, issue_slug: str, recipient: str) -> Path:
        """``<outbox>/<issue slug>/<address>.eml``; a short hash keeps sanitised names unique."""
        safe = _UNSAFE.sub("_", recipient)
        if safe != recipient:
            safe += "-" + hashlib.sha256(recipient.encode()).hexdigest()[:8]
        return self.folder / issue_slug / ("test" if self.test else "") / f"{safe}.eml"
