"""Settings: defaults, config.toml, then DIGEST_<TABLE>_<KEY> from the environment."""
from __future__ import annotations

import pytest

from digest.config import load_settings
from digest.errors import ConfigError


def test_environment_overrides_config_and_is_typed_like_the_default(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nhost = "mail.example.org"\nport = 587\n')
    settings = load_settings(config, environ={"DIGEST_SMTP_PORT": "2525", "DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SENDING_RATE": "12.5"})
    assert settings.table("smtp")["host"] == "mail.example.org"
    assert settings.table("smtp")["port"] == 2525
    assert settings.table("delivery")["backend"] == "smtp"
    assert settings.table("sending")["rate"] == 12.5


def test_paths_resolve_against_the_config_folder(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[ledger]\npath = "state/ledger.sqlite"\n')
    assert load_settings(config, environ={}).path("ledger") == tmp_path / "state" / "ledger.sqlite"


@pytest.mark.parametrize("text,words", [
    ("[nope]\nx = 1\n", "unknown table [nope]"),
    ("[smtp]\nport = \"many\"\n", "expected int"),
    ("[smtp\n", "Expected ']'"),
])
def test_bad_config_raises_config_error(tmp_path, text, words):
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(config, environ={})
    assert words in str(info.value) and str(config) in str(info.value)


def test_unrelated_environment_variables_are_ignored(tmp_path):
    settings = load_settings(None, environ={"DIGEST_UNSUBSCRIBE_SECRET": "s3cret", "DIGEST_NOPE_X": "1"})
    assert "s3cret" not in repr(settings.tables)
