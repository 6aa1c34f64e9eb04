"""Settings from config.toml, with DIGEST_<TABLE>_<KEY> environment overrides.

Defaults live in one dict (as pelican does) so an override's type is known even when
config.toml leaves the key out, and a misspelt key is an error rather than silently
ignored. Secrets are never stored here: config names the variable (``*_env`` keys) and
the backend reads it at the edge.
"""
from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

CONFIG_FILENAME = "config.toml"

DEFAULTS: dict[str, dict[str, Any]] = {
    "newsletter": {
        "name": "Newsletter",
        "from_email": "newsletter@example.org",
        "from_name": "",
        "reply_to": "",
        "base_url": "https://example.org/news",
        "list_id": "",
        "language": "en",
        "postal_address": "",
        "sample_member_email": "member@example.org",
        "sample_member_name": "Sample Member",
        "unsubscribe_url": "",
        "subscribe_url": "",
        "unsubscribe_mailto": "",
        "unsubscribe_secret_env": "DIGEST_UNSUBSCRIBE_SECRET",
    },
    "theme": {
        "accent": "#0b6e4f",
        "background": "#f3f4f1",
        "card": "#ffffff",
        "text": "#1f2421",
        "muted": "#5b6660",
        "dark_accent": "#7fd6b2",
        "dark_background": "#111513",
        "dark_card": "#1c211e",
        "dark_text": "#e4e8e5",
        "dark_muted": "#a9b4ae",
        "logo_url": "",
        "logo_alt": "",
        # Latin faces first, then Japanese ones per platform: Apple (Hiragino), Windows
        # (Yu Gothic, Meiryo), Android and Linux (Noto Sans CJK JP / Noto Sans JP).
        "font_stack": "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Hiragino Sans', 'Hiragino Kaku Gothic ProN', "
                      "'Yu Gothic', YuGothic, Meiryo, 'Noto Sans CJK JP', 'Noto Sans JP', sans-serif",
    },
    "paths": {
        "issues": "issues",
        "templates": "templates",
        "build": "build",
        "locale": "locale",
    },
    # fallback: an item with no translation is shown in the issue's default language
    # ("default", marked with its lang) or left out of that language's edition ("omit").
    "i18n": {"fallback": "default"},
    "limits": {
        "clip_bytes": 102_000,
        "subject_chars": 78,
    },
    "delivery": {"backend": "outbox"},
    "outbox": {"path": "build/outbox"},
    "members": {"path": "members.csv"},
    "ledger": {"path": ".digest/ledger.sqlite", "url": ""},
    "sending": {"rate": 0.0, "concurrency": 1, "retries": 5, "batch_size": 0, "backoff": 1.0, "lease_seconds": 30.0},
    "smtp": {
        "host": "localhost",
        "port": 587,
        "security": "starttls",
        "username": "",
        "password_env": "SMTP_PASSWORD",
        "timeout": 30.0,
        "ca_file": "",
    },
    "postmark": {"token_env": "POSTMARK_SERVER_TOKEN", "base_url": "https://api.postmarkapp.com", "message_stream": "broadcast", "timeout": 30.0},
    "mailgun": {"api_key_env": "MAILGUN_API_KEY", "domain": "", "base_url": "https://api.mailgun.net", "timeout": 30.0},
    "sendgrid": {"api_key_env": "SENDGRID_API_KEY", "base_url": "https://api.sendgrid.com", "timeout": 30.0},
    "resend": {"api_key_env": "RESEND_API_KEY", "base_url": "https://api.resend.com", "timeout": 30.0},
    "ses": {
        "region": "eu-west-1",
        "access_key_env": "AWS_ACCESS_KEY_ID",
        "secret_key_env": "AWS_SECRET_ACCESS_KEY",
        "session_token_env": "AWS_SESSION_TOKEN",
        "base_url": "",
        "configuration_set": "",
        "timeout": 30.0,
    },
    "dkim": {"selector": "", "domain": "", "private_key_path": "", "private_key_env": "", "algorithm": ""},
    "doctor": {"nameservers": [], "timeout": 10.0, "return_path_domain": ""},
    "preview": {"host": "127.0.0.1", "port": 8025},
    "web": {
        "host": "127.0.0.1",
        "port": 8026,
        "signups_per_minute": 10,       # per client IP (IPv6: per /64); past it 429 with Retry-After
        "confirmation_interval": 3600,  # seconds: at most one confirmation email per address in this time
        "confirm_hours": 72.0,          # a confirmation link works this long, once
        "trust_forwarded": False,       # take the client IP from the last X-Forwarded-For hop (behind a proxy)
    },
    "feeds": {"urls": [], "max_new": 20},
    "fetch": {"timeout": 10.0, "max_bytes": 2_000_000, "max_redirects": 5},
    "linkcheck": {"timeout": 10.0, "workers": 8},
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Newsletter:
    """Who sends the newsletter and where its web pages live."""

    name: str
    from_email: str
    from_name: str
    reply_to: str
    base_url: str
    list_id: str
    language: str
    postal_address: str
    sample_member_email: str
    sample_member_name: str
    unsubscribe_url: str
    subscribe_url: str
    unsubscribe_mailto: str
    unsubscribe_secret_env: str


@dataclass(frozen=True)
class Theme:
    """Colours, logo and fonts the templates read; editable without touching Python.
    The ``dark_*`` colours replace their namesakes where a mail client is in dark mode."""

    accent: str
    background: str
    card: str
    text: str
    muted: str
    dark_accent: str
    dark_background: str
    dark_card: str
    dark_text: str
    dark_muted: str
    logo_url: str
    logo_alt: str
    font_stack: str


@dataclass(frozen=True)
class Settings:
    """Typed settings, built once and passed down."""

    root: Path
    newsletter: Newsletter
    theme: Theme
    tables: Mapping[str, Mapping[str, Any]] = field(repr=False)
    source: Path | None = None

    def table(self, name: str) -> dict[str, Any]:
        """One table of settings (defaults merged with config and environment)."""
        return dict(self.tables.get(name, {}))

    def path(self, table: str, key: str = "path") -> Path:
        """A path setting, resolved against the folder holding config.toml."""
        return (self.root / str(self.tables[table][key])).resolve()

    @property
    def templates_dir(self) -> Path:
        return self.path("paths", "templates")

    @property
    def issues_dir(self) -> Path:
        return self.path("paths", "issues")

    @property
    def locale_dir(self) -> Path:
        """The gettext catalogs: ``<locale>/<lang>/LC_MESSAGES/digest.po``."""
        return self.path("paths", "locale")

    @property
    def build_dir(self) -> Path:
        return self.path("paths", "build")

    @property
    def clip_bytes(self) -> int:
        return int(self.tables["limits"]["clip_bytes"])


def find_config(start: Path | None = None) -> Path | None:
    """The config.toml named by DIGEST_CONFIG, else the nearest one at or above ``start``."""
    named = os.environ.get("DIGEST_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"DIGEST_CONFIG names {path}, which is not a file")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    return None


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read config.toml (if any), apply DIGEST_* overrides, and type the result."""
    environ = os.environ if environ is None else environ
    config_path = path if path is not None else find_config()
    tables = copy.deepcopy(DEFAULTS)
    root = Path.cwd()
    if config_path is not None:
        root = config_path.resolve().parent
        _merge_file(tables, config_path)
    _merge_environment(tables, environ)
    return Settings(
        root=root,
        newsletter=Newsletter(**{k: str(v) for k, v in tables["newsletter"].items()}),
        theme=Theme(**{k: str(v) for k, v in tables["theme"].items()}),
        tables=tables,
        source=config_path,
    )


def _merge_file(tables: dict[str, dict[str, Any]], path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for table_name, values in data.items():
        line = _line_of(text, rf"^\s*\[\s*{re.escape(table_name)}\s*\]")
        if table_name not in tables:
            raise ConfigError(f"{path}:{line}: unknown table [{table_name}] (known: {', '.join(sorted(tables))})")
        if not isinstance(values, dict):
            raise ConfigError(f"{path}:{line}: {table_name} must be a table")
        for key, value in values.items():
            if key not in tables[table_name]:
                key_line = _line_of(text, rf"^\s*{re.escape(key)}\s*=")
                raise ConfigError(f"{path}:{key_line}: unknown key {key!r} in [{table_name}]")
            tables[table_name][key] = _typed_like(tables[table_name][key], value, f"{path}: [{table_name}] {key}")


def _merge_environment(tables: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith("DIGEST_"):
            continue
        rest = name[len("DIGEST_"):].lower()
        table_name, _, key = rest.partition("_")
        if table_name in tables and key in tables[table_name]:
            tables[table_name][key] = _typed_like(tables[table_name][key], raw, name)


def _typed_like(default: Any, value: Any, where: str) -> Any:
    """Coerce ``value`` to the type of ``default``; strings from the environment are parsed."""
    if isinstance(value, str) and not isinstance(default, str):
        text = value.strip()
        try:
            if isinstance(default, bool):
                if text.lower() in _TRUE:
                    return True
                if text.lower() in _FALSE:
                    return False
                raise ValueError(value)
            if isinstance(default, int):
                return int(text)
            if isinstance(default, float):
                return float(text)
            if isinstance(default, list):
                return [part.strip() for part in text.split(",") if part.strip()]
        except ValueError:
            raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}") from None
    if isinstance(default, bool) != isinstance(value, bool):
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
    return value


def _line_of(text: str, pattern: str) -> int:
    match = re.search(pattern, text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1
