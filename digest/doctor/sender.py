"""How we send, as the doctor needs to know it: the From and return-path domains, the
backend (our SMTP host, or a provider whose SPF include and DKIM selectors are known),
and the DKIM selector, signing domain and key. Read once from settings; the checks
take this instead of reading config themselves."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..delivery.dkim import DkimKey, check_dns_name, dkim_settings, load_key
from ..errors import ConfigError, DkimKeyError


@dataclass(frozen=True)
class Provider:
    """What an HTTP mail API asks you to publish under your own domain."""

    name: str
    spf_include: str                  # the domain its SPF include names
    selectors: tuple[str, ...] = ()   # DKIM selectors it uses under every customer's domain
    return_path: str = ""             # its return-path subdomain of yours, when fixed


PROVIDERS = {
    "postmark": Provider("Postmark", "spf.mtasv.net"),
    "mailgun": Provider("Mailgun", "mailgun.org"),
    "sendgrid": Provider("SendGrid", "sendgrid.net", ("s1", "s2")),
    "resend": Provider("Resend", "amazonses.com", ("resend",), return_path="send"),
    "ses": Provider("Amazon SES", "amazonses.com"),
}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str
    username: str
    timeout: float
    ca_file: Path | None

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"


@dataclass(frozen=True)
class Sender:
    from_domain: str
    return_path_domain: str   # the envelope sender's domain, which SPF is checked against
    backend: str
    provider: Provider | None
    smtp: SmtpServer | None
    dkim_selector: str
    dkim_domain: str
    dkim_key: DkimKey | None  # set when we sign (SMTP backend or outbox with a key in [dkim])
    dkim_key_problem: str = ""  # the key is configured but cannot be used

    @property
    def signs(self) -> bool:
        return self.dkim_key is not None or bool(self.dkim_key_problem)

    def describe(self) -> str:
        via = self.smtp.describe() if self.smtp else (self.provider.name if self.provider else self.backend)
        text = f"From domain {self.from_domain}, return path {self.return_path_domain}, via {self.backend} {via}"
        if self.dkim_key is not None:
            text += f", DKIM {self.dkim_key.algorithm} s={self.dkim_selector} d={self.dkim_domain}"
        elif self.dkim_selector:
            text += f", DKIM s={self.dkim_selector} d={self.dkim_domain}"
        return text


def sender_from(settings: Settings) -> Sender:
    """Read how we send from settings; config mistakes raise ConfigError, an unusable
    key becomes ``dkim_key_problem`` so the other checks still run."""
    from_domain = settings.newsletter.from_email.rpartition("@")[2].lower().rstrip(".")
    if not from_domain:
        raise ConfigError(f"[newsletter] from_email {settings.newsletter.from_email!r} has no domain")
    backend = str(settings.table("delivery")["backend"])
    provider = PROVIDERS.get(backend)
    dkim = dkim_settings(settings)
    selector = str(dkim["selector"])
    if selector:
        check_dns_name(selector, "[dkim] selector")
    check_dns_name(dkim["domain"], "[dkim] domain")
    key, problem = None, ""
    if provider is None:  # providers sign with their own keys; ours is for our SMTP and the outbox
        try:
            key = load_key(settings)
        except DkimKeyError as exc:
            problem = str(exc)
        if (key is not None or problem) and not selector:
            raise ConfigError("[dkim] selector is not set: name the selector the public key is published under")
    return Sender(
        from_domain=from_domain,
        return_path_domain=_return_path(settings, from_domain, backend, provider),
        backend=backend,
        provider=provider,
        smtp=_smtp(settings) if backend == "smtp" else None,
        dkim_selector=selector,
        dkim_domain=dkim["domain"],
        dkim_key=key,
        dkim_key_problem=problem,
    )


def _return_path(settings: Settings, from_domain: str, backend: str, provider: Provider | None) -> str:
    configured = str(settings.table("doctor")["return_path_domain"]).lower().rstrip(".")
    if configured:
        return check_dns_name(configured, "[doctor] return_path_domain")
    if backend == "mailgun" and settings.table("mailgun")["domain"]:
        return str(settings.table("mailgun")["domain"]).lower()
    if provider is not None and provider.return_path:
        return f"{provider.return_path}.{from_domain}"
    return from_domain


def _smtp(settings: Settings) -> SmtpServer:
    config = settings.table("smtp")
    ca_file = settings.path("smtp", "ca_file") if config["ca_file"] else None
    if ca_file is not None and not ca_file.is_file():
        raise ConfigError(f"[smtp] ca_file {ca_file} is not a file")
    return SmtpServer(str(config["host"]), int(config["port"]), str(config["security"]).lower(),
                      str(config["username"]), float(config["timeout"]), ca_file)
