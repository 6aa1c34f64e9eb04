"""Typed errors the CLI turns into one-line messages.

A mistake a user can fix raises a ``DigestError`` subclass; anything else is a bug
and keeps its traceback. Each class carries what the user needs to find the fault::

    DigestError
    ├── ContentError(path, line)   issue folders, item files, members files
    ├── TemplateError(path, line)  Jinja/MJML templates
    ├── ConfigError                config.toml and DIGEST_* variables
    │   └── DkimKeyError           the DKIM private key: missing, unreadable, not PKCS#8 PEM
    ├── HeaderError                CR/LF or malformed values bound for a mail header
    ├── FetchError(url)            a page or feed could not be fetched or is not what we expected
    ├── LedgerError(path)          the ledger cannot be read or written (corrupt, locked, disk full)
    ├── SendRefused                a send must not start: another is running, the audience or the
    │                              ledger does not match what was sent before
    ├── PreflightError(findings)   build or send refused: the issue has check errors
    ├── DoctorError                the DNS checks before a send found records that are wrong
    └── DeliveryError(recipient, reply)  a backend refused or failed
        └── TemporaryDeliveryError(retry_after)  worth retrying later (4xx SMTP, 429/5xx, timeouts)
"""
from __future__ import annotations

from pathlib import Path


class DigestError(Exception):
    """Root of every error a user can act on."""


class _Located(DigestError):
    """An error tied to a file and, where known, a line."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class ContentError(_Located, ValueError):
    """An issue folder, item file or data file is malformed."""


class TemplateError(_Located):
    """A template is missing, does not parse, or uses an unknown variable."""


class ConfigError(DigestError, ValueError):
    """config.toml or a DIGEST_* override is missing or wrong."""


class DkimKeyError(ConfigError):
    """The DKIM private key named in [dkim] is missing, unreadable or not a PKCS#8 PEM key."""


class DoctorError(DigestError):
    """The sending domain's DNS records are wrong; sending now would land in spam or bounce."""


class HeaderError(DigestError, ValueError):
    """A value bound for a mail header would be unsafe (CR/LF) or malformed."""


class FetchError(DigestError):
    """A URL could not be fetched, or its answer is not the page or feed asked for."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return f"{self.url}: {self.message}"


class LedgerError(DigestError):
    """The ledger cannot be opened, read or written; the message says what to do."""

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path is not None else self.message


class SendRefused(DigestError):
    """A send that must not start as asked (another run holds the issue, a different
    members file for a send in progress, earlier sends without their ledger)."""


class PreflightError(DigestError):
    """``build`` or ``send`` refused because ``check`` finds errors; carries them all,
    and reads as the first one (``path:line: message``) with a count of the rest."""

    def __init__(self, errors, folder: str | Path, action: str):
        self.errors = tuple(errors)
        first = self.errors[0]
        where = f"{first.path}:{first.line}" if first.line else str(first.path)
        more = len(self.errors) - 1
        rest = f" ({action} refused with {more + 1} errors: `digest check {folder}` lists them all)" if more else ""
        super().__init__(f"{where}: {first.message}{rest}")


class DeliveryError(DigestError):
    """A backend could not deliver; carries the recipient and the provider's reply."""

    def __init__(self, message: str, recipient: str | None = None, reply: str | None = None):
        super().__init__(message)
        self.recipient = recipient
        self.reply = reply

    def __str__(self) -> str:
        text = super().__str__()
        if self.recipient:
            text = f"{self.recipient}: {text}"
        if self.reply:
            text = f"{text} (provider said: {self.reply})"
        return text


class TemporaryDeliveryError(DeliveryError):
    """A failure worth retrying: the send loop backs off (honouring ``retry_after``)."""

    def __init__(self, message: str, recipient: str | None = None, reply: str | None = None, retry_after: float | None = None):
        super().__init__(message, recipient, reply)
        self.retry_after = retry_after
