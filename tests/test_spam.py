"""SpamAssassin (local tests, Debian's rules) scores the seed issue's .eml and a
personalised outbox message at or below 0.0, and flags what used to raise the score."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from digest.checks.spam import spamassassin_report
from digest.cli import cli

from .conftest import REPO, SEED_ISSUE, write_members

pytestmark = pytest.mark.skipif(not shutil.which("spamassassin"), reason="spamassassin is not installed (.ci/run installs it)")


def digest(tmp_path, *args):
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def test_seed_issue_eml_scores_at_most_zero(tmp_path):
    digest(tmp_path, "build", str(SEED_ISSUE), "--out", str(tmp_path / "build"))
    report = spamassassin_report((tmp_path / "build" / "email.eml").read_bytes())
    assert report.score <= 0.0, report.describe()
    assert {"GB_CUSTOM_HTM_URI", "HTML_FONT_LOW_CONTRAST", "FONT_INVIS_MSGID"}.isdisjoint(r.name for r in report.rules)


def test_personalised_outbox_message_scores_at_most_zero(tmp_path):
    members = write_members(tmp_path / "members.csv", 2)
    digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    report = spamassassin_report((tmp_path / "outbox" / "2015-10" / "m0001@example.org.eml").read_bytes())
    assert report.score <= 0.0, report.describe()


def test_an_address_in_a_link_raises_the_score_and_check_names_the_rule(make_issue, tmp_path):
    item = '+++\ntitle = "Survey"\nlink = "https://example.org/survey?email=member@example.org"\n+++\nTell us.\n'
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "check", str(make_issue({"one.md": item}))])
    assert result.exit_code == 1
    assert "warning: SpamAssassin (local tests) scores the sample message 1.0" in result.output
    assert "GB_CUSTOM_HTM_URI (+1.0)" in result.output
