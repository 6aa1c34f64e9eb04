"""Delivery backends, one small module each behind ``backends.base.Backend``.

Adding a backend is one new module and one line in ``BACKENDS``; the send loop only
knows the base class. Modules are imported on demand so an optional dependency of one
backend (botocore for SES) never affects the others.
"""
from __future__ import annotations

import importlib

from ...config import Settings
from ...errors import ConfigError
from .base import Backend, RecipientResult, Status

BACKENDS: dict[str, str] = {
    "outbox": "digest.delivery.backends.outbox:OutboxBackend",
    "postmark": "digest.delivery.backends.postmark:PostmarkBackend",
    "mailgun": "digest.delivery.backends.mailgun:MailgunBackend",
    "sendgrid": "digest.delivery.backends.sendgrid:SendGridBackend",
    "resend": "digest.delivery.backends.resend:ResendBackend",
    "ses": "digest.delivery.backends.ses:SesBackend",
    "smtp": "digest.delivery.backends.smtp:SmtpBackend",
}


def get_backend(settings: Settings, name: str | None = None) -> Backend:
    """The backend config names (``[delivery] backend``), configured from its own table."""
    name = name or str(settings.table("delivery")["backend"])
    if name not in BACKENDS:
        raise ConfigError(f"unknown delivery backend {name!r} (known: {', '.join(sorted(BACKENDS))})")
    module_name, _, class_name = BACKENDS[name].partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(settings)


__all__ = ["Backend", "RecipientResult", "Status", "BACKENDS", "get_backend"]
