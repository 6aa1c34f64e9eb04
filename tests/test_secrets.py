"""The unsubscribe secret: from the environment, or a private .digest/secret the first
local send creates. Outbox sends, --test and serve-unsubscribe share it, so a link in a
local message verifies against the local app. There is no built-in secret."""
from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import urllib.request
from urllib.parse import urlencode, urlsplit

import email
import email.policy
from click.testing import CliRunner

from digest.cli import cli
from digest.config import load_settings
from digest.members.tokens import unsubscribe_secret

from .conftest import REPO, SEED_ISSUE, write_members


def environ(tmp_path, **extra):
    return {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "state" / "ledger.sqlite"),
            **extra}


def digest(tmp_path, *args, **extra):
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ(tmp_path, **extra))


def test_the_first_outbox_send_creates_a_private_secret_and_later_runs_reuse_it(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET", raising=False)
    members = write_members(tmp_path / "members.csv", 2)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes").exit_code == 0
    secret_file = tmp_path / "state" / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip()
    assert len(secret) >= 40
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--test", "m0000@example.org").exit_code == 0
    assert secret_file.read_text().strip() == secret
    settings = load_settings(REPO / "config.toml", environ=environ(tmp_path))
    assert unsubscribe_secret(settings, required=True) == secret
    assert unsubscribe_secret(settings, required=True) != unsubscribe_secret(
        load_settings(REPO / "config.toml", environ=environ(tmp_path / "other")), required=False)


def test_the_environment_wins_and_a_readable_secret_file_is_refused(tmp_path, monkeypatch):
    settings = load_settings(REPO / "config.toml", environ=environ(tmp_path))
    secret_file = tmp_path / "state" / "secret"
    secret_file.parent.mkdir()
    secret_file.write_text("from-the-file\n")
    secret_file.chmod(0o644)
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "from-the-environment")
    assert unsubscribe_secret(settings, required=True) == "from-the-environment"
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET")
    members = write_members(tmp_path / "members.csv", 1)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {secret_file}: the unsubscribe secret is readable by others (mode 644); "
                                     f"run `chmod 600 {secret_file}`")


def test_a_provider_send_needs_the_secret_from_the_environment_or_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET", raising=False)
    members = write_members(tmp_path / "members.csv", 1)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                    DIGEST_DELIVERY_BACKEND="smtp")
    assert result.exit_code == 1 and "DIGEST_UNSUBSCRIBE_SECRET (the unsubscribe link secret) is not set" in result.stderr
    assert not (tmp_path / "state" / "secret").exists()


def test_a_link_from_a_local_send_verifies_in_serve_unsubscribe(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET", raising=False)
    members = write_members(tmp_path / "members.csv", 1)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes").exit_code == 0
    message = email.message_from_bytes((tmp_path / "outbox" / "2015-10" / "m0000@example.org.eml").read_bytes(),
                                       policy=email.policy.default)
    link = re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env.update(environ(tmp_path))
    server = subprocess.Popen([sys.executable, "-m", "digest", "--config", str(REPO / "config.toml"), "serve-unsubscribe",
                               "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        origin = re.search(r"(http://127\.0\.0\.1:\d+)/", server.stdout.readline()).group(1)
        parts = urlsplit(link)
        request = urllib.request.Request(f"{origin}{parts.path}?{parts.query}", method="POST",
                                         data=urlencode({"List-Unsubscribe": "One-Click"}).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
