"""`digest send` end to end through each HTTP backend: the send loop, the ledger and the
provider's documented request format meet, and a second run sends nobody."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .conftest import REPO, SEED_ISSUE, ledger_env, write_members
from .provider_formats import PROVIDERS


def members_in(provider: str, requests) -> int:
    """How many members the provider was asked to mail, read from its own request format."""
    total = 0
    for request in requests:
        if provider == "postmark":
            total += len(request.json())
        elif provider == "resend":
            total += len(request.json())
        elif provider == "sendgrid":
            total += len(request.json()["personalizations"])
        elif provider == "mailgun":
            total += sum(1 for name, _ in request.form() if name == "to")
        elif provider == "ses":
            total += 1
    return total


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_send_through_http_backend_mails_everyone_once_and_resume_sends_nobody(provider, tmp_path, ledger_target, fake_provider):
    spec = PROVIDERS[provider]
    server = fake_provider(spec.check, spec.accept)
    members = write_members(tmp_path / "members.csv", 7)
    env = {
        "DIGEST_DELIVERY_BACKEND": provider,
        f"DIGEST_{provider.upper()}_BASE_URL": server.url,
        **ledger_env(ledger_target),
        "DIGEST_SENDING_BACKOFF": "0.001",
        "DIGEST_UNSUBSCRIBE_SECRET": "e2e-secret",
        "AWS_SESSION_TOKEN": "",
        **spec.environ,
        **{f"DIGEST_{provider.upper()}_{key.upper()}": str(value) for key, value in spec.settings.items()},
    }
    # --skip-doctor: the send loop and the provider's format are under test here, not the domain's DNS
    args = ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--members", str(members), "--yes",
            "--skip-doctor"]

    first = CliRunner().invoke(cli, args, env=env)
    assert first.exit_code == 0, first.output
    assert members_in(provider, server.requests) == 7
    requests_after_first = len(server.requests)

    second = CliRunner().invoke(cli, args, env=env)
    assert second.exit_code == 0, second.output
    assert len(server.requests) == requests_after_first

    status = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "status", str(SEED_ISSUE)], env=env)
    assert status.exit_code == 0 and "Complete: yes" in status.output


def test_real_send_without_unsubscribe_secret_is_refused_before_any_request(tmp_path, fake_provider):
    spec = PROVIDERS["postmark"]
    server = fake_provider(spec.check, spec.accept)
    env = {"DIGEST_DELIVERY_BACKEND": "postmark", "DIGEST_POSTMARK_BASE_URL": server.url,
           "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"), **spec.environ}
    members = write_members(tmp_path / "members.csv", 2)
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--members", str(members), "--yes"], env=env)
    assert result.exit_code == 1
    assert "DIGEST_UNSUBSCRIBE_SECRET" in result.output
    assert server.requests == []
