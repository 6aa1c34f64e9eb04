"""SMTP delivery with smtplib: one connection per backend instance, many messages on it.

smtplib raises one exception type for 4xx and 5xx replies alike, so the codes are read
here: 4xx is worth retrying, 5xx is not, and a 421 (or a dropped connection) closes the
connection, which is opened again for the next message. The send loop gives each worker
thread its own instance, so one connection never carries two messages at once.
"""
from __future__ import annotations

import os
import smtplib
import ssl
from typing import Sequence

from ...errors import ConfigError, DeliveryError, TemporaryDeliveryError
from ...render.mime import OutgoingMessage
from ..dkim import signer_for
from .base import Backend, RecipientResult, Status

SECURITY_MODES = ("starttls", "ssl", "none")


class SmtpBackend(Backend):
    name = "smtp"
    max_batch = 50
    needs_raw = True
    acknowledges_each = True

    def __init__(self, settings):
        super().__init__(settings)
        config = settings.table("smtp")
        self.host = str(config["host"])
        self.port = int(config["port"])
        self.security = str(config["security"]).lower()
        self.username = str(config["username"])
        self.timeout = float(config["timeout"])
        self.ca_file = settings.path("smtp", "ca_file") if config["ca_file"] else None
        if self.security not in SECURITY_MODES:
            raise ConfigError(f"[smtp] security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}")
        self.password = ""
        if self.username:
            variable = str(config["password_env"])
            self.password = os.environ.get(variable, "")
            if not self.password:
                raise ConfigError(f"environment variable {variable} (the SMTP password for {self.username}) is not set")
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ConfigError(f"[smtp] ca_file {self.ca_file} is not a file")
        self.connection: smtplib.SMTP | None = None
        self.sign = signer_for(settings)

    def describe(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"smtp://{user}{self.host}:{self.port} ({self.security})"

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None

    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[RecipientResult]:
        """Send one message at a time on the shared connection. Once a message has
        gone, a failure to reconnect is reported per recipient rather than raised,
        so the results of messages already accepted are never lost."""
        results: list[RecipientResult] = []
        for message in messages:
            try:
                connection = self._connected()
            except DeliveryError as exc:
                if not results:
                    raise
                results.extend(RecipientResult(m.recipient, Status.TEMPORARY, "", str(exc)) for m in messages[len(results):])
                break
            results.append(self._send_one(connection, message))
        return results

    def _send_one(self, connection: smtplib.SMTP, message: OutgoingMessage) -> RecipientResult:
        recipient = message.recipient
        try:
            connection.sendmail(message.from_email, [recipient], self.sign(message.raw))
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(recipient, (0, b""))
            return self._refused(recipient, code, reply)
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused
            return self._refused(recipient, exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            return RecipientResult(recipient, Status.TEMPORARY, "", f"connection lost: {exc or type(exc).__name__}")
        return RecipientResult(recipient, Status.SENT, message.message_id)

    def _refused(self, recipient: str, code: int, reply: bytes | str) -> RecipientResult:
        if self.connection is not None and self.connection.sock is None:
            self.connection = None  # smtplib closed it (421)
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        status = Status.TEMPORARY if 400 <= code < 500 else Status.PERMANENT
        return RecipientResult(recipient, status, "", f"{code} {text}".strip())

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connected(self) -> smtplib.SMTP:
        if self.connection is None:
            self.connection = self._connect()
        return self.connection

    def _connect(self) -> smtplib.SMTP:
        where = f"{self.host}:{self.port}"
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        try:
            if self.security == "ssl":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            try:
                connection.ehlo()
                if self.security == "starttls":
                    connection.starttls(context=context)
                    connection.ehlo()
                if self.username:
                    connection.login(self.username, self.password)
            except BaseException:
                connection.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP server {where} refused the login for {self.username}", reply=_reply(exc)) from None
        except smtplib.SMTPNotSupportedError as exc:
            hint = _LOCAL_HINT if self.security == "starttls" and "STARTTLS" in str(exc) else ""
            raise DeliveryError(f"SMTP server {where}: {exc}{hint}") from None
        except ssl.SSLError as exc:
            hint = _LOCAL_HINT if self.security != "none" and _is_loopback(self.host) else ""
            raise DeliveryError(f"TLS with SMTP server {where} failed ({exc.reason or exc}){hint}") from None
        except smtplib.SMTPResponseException as exc:
            error = TemporaryDeliveryError if 400 <= exc.smtp_code < 500 else DeliveryError
            raise error(f"SMTP server {where} refused the session", reply=_reply(exc)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryDeliveryError(f"cannot connect to SMTP server {where} ({exc or type(exc).__name__})") from None
        return connection


_LOCAL_HINT = ' (a local test server without TLS needs [smtp] security = "none")'


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {text}"
