"""digest suppress and digest bounces: the suppression list in and out of CSV, and each
provider's bounce/complaint export turned into suppressions."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.store.ledger import SendLedger

from .conftest import REPO, ledger_env

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"


@pytest.fixture
def ledger_path(ledger_target):
    """This test's ledger, once per engine."""
    return ledger_target


@pytest.fixture
def digest(ledger_path):
    """Run ``digest`` in-process against the repo's config and a private ledger."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=ledger_env(ledger_path))

    return run


def suppressed(ledger_path) -> dict[str, str]:
    with SendLedger(ledger_path) as ledger:
        return {row.email: row.reason for row in ledger.suppressions()}


def test_suppress_add_lower_cases_and_reports_repeats(digest, ledger_path):
    result = digest("suppress", "add", "Someone@Example.ORG", "other@example.org")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["someone@example.org: suppressed", "other@example.org: suppressed"]
    again = digest("suppress", "add", "someone@example.org")
    assert again.stdout.strip() == "someone@example.org: already suppressed"
    assert suppressed(ledger_path) == {"someone@example.org": "manual", "other@example.org": "manual"}
    with SendLedger(ledger_path) as ledger:
        assert ledger.is_suppressed("SOMEONE@example.org")


def test_suppress_add_with_one_bad_address_adds_none(digest, ledger_path):
    result = digest("suppress", "add", "good@example.org", "bad@@example", "evil@example.org\r\nBcc: x@y.org")
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    assert suppressed(ledger_path) == {}


@pytest.mark.parametrize("column", ["email", "Email", "EMAIL ADDRESS", "address", "Recipient"])
def test_suppress_import_finds_the_email_column_and_reports_bad_rows_by_line(digest, ledger_path, tmp_path, column):
    export = tmp_path / "provider.csv"
    export.write_text(f"Created,{column},Reason\n"
                      "2026-01-01,a@example.org,bounce\n"
                      "2026-01-01,not-an-address,\n"
                      "\n"
                      "2026-01-02,B@Example.org,Unsubscribed via link\n"
                      "2026-01-03,,\n", encoding="utf-8")
    result = digest("suppress", "import", str(export))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"{export}:3: not an email address: 'not-an-address'",
                                          f"{export}:6: not an email address: ''"]
    assert result.stdout.strip() == f"{export}: 2 added, 0 already suppressed, 2 skipped"
    assert suppressed(ledger_path) == {"a@example.org": "bounce", "b@example.org": "import"}


def test_suppress_import_without_an_email_column_is_one_line_error(digest, ledger_path, tmp_path):
    export = tmp_path / "wrong.csv"
    export.write_text("name,city\nAda,London\n", encoding="utf-8")
    result = digest("suppress", "import", str(export))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {export}:1: no email column") and len(result.output.strip().splitlines()) == 1
    assert suppressed(ledger_path) == {}


def test_suppress_list_and_export_round_trip_through_import(digest, ledger_path, tmp_path):
    digest("suppress", "add", "a@example.org")
    digest("bounces", "import", str(FIXTURES / "sendgrid.jsonl"), "--format", "sendgrid")
    listed = digest("suppress", "list")
    assert listed.exit_code == 0
    assert sorted(line.split("\t")[0] for line in listed.stdout.splitlines()) == [
        "a@example.org", "complaint@example.org", "hard@example.org", "soft3@example.org"]

    to_stdout = digest("suppress", "export")
    rows = list(csv.DictReader(io.StringIO(to_stdout.stdout)))
    assert list(rows[0]) == ["email", "reason", "source", "created_at"]
    assert {r["email"]: r["reason"] for r in rows} == suppressed(ledger_path)

    out = tmp_path / "export.csv"
    assert digest("suppress", "export", "--out", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    other_ledger = tmp_path / "other.sqlite"
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "suppress", "import", str(out)],
                                env={"DIGEST_LEDGER_PATH": str(other_ledger)})
    assert result.exit_code == 0, result.output
    assert suppressed(other_ledger) == suppressed(ledger_path), "reasons survive the round trip"


# Every fixture tells the same story: hard@ bounces hard, complaint@ complains, soft3@
# soft-bounces three times in a row, soft-reset@ soft-bounces, is delivered to, then
# soft-bounces twice; one line is broken. mailgun.jsonl lists events newest first.
PROVIDER_FILES = [
    ("postmark", "postmark.jsonl", 10, "no 'Email' field"),
    ("postmark", "postmark.csv", 11, "not an email address: 'not an address'"),
    ("mailgun", "mailgun.jsonl", 10, "failed event with severity ''"),
    ("sendgrid", "sendgrid.jsonl", 9, "not JSON"),
    ("ses", "ses.jsonl", 8, "no bouncedRecipients"),
]


@pytest.mark.parametrize("provider, filename, bad_line, message", PROVIDER_FILES)
def test_bounces_import_suppresses_hard_bounces_complaints_and_three_soft_bounces_in_a_row(
        digest, ledger_path, provider, filename, bad_line, message):
    path = FIXTURES / filename
    result = digest("bounces", "import", str(path), "--format", provider)
    assert result.exit_code == 1, "a skipped line is bad input"
    assert result.stderr.startswith(f"{path}:{bad_line}: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "1 hard bounce(s), 1 complaint(s), 6 soft bounce(s)" in result.stdout
    assert "3 newly suppressed, 1 line(s) skipped" in result.stdout
    assert suppressed(ledger_path) == {"hard@example.org": "bounce", "complaint@example.org": "complaint", "soft3@example.org": "bounce"}
    with SendLedger(ledger_path) as ledger:
        assert ledger.soft_bounces_in_a_row("soft-reset@example.org") == 2, "the delivery between ended the first run"


def test_soft_bounce_run_continues_across_imports_and_a_delivery_resets_it(digest, ledger_path, tmp_path):
    def events(name: str, *lines: str) -> str:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    deferred = '{"email": "x@example.org", "timestamp": %d, "event": "deferred"}'
    delivered = '{"email": "x@example.org", "timestamp": %d, "event": "delivered"}'
    assert digest("bounces", "import", events("1.jsonl", deferred % 1, deferred % 2), "--format", "sendgrid").exit_code == 0
    assert suppressed(ledger_path) == {}
    assert digest("bounces", "import", events("2.jsonl", delivered % 3, deferred % 4), "--format", "sendgrid").exit_code == 0
    assert digest("bounces", "import", events("3.jsonl", deferred % 5), "--format", "sendgrid").exit_code == 0
    assert suppressed(ledger_path) == {}
    assert digest("bounces", "import", events("4.jsonl", deferred % 6), "--format", "sendgrid").exit_code == 0
    assert suppressed(ledger_path) == {"x@example.org": "bounce"}


def test_bounces_import_of_a_missing_file_is_one_line_error(digest, tmp_path):
    result = digest("bounces", "import", str(tmp_path / "nope.jsonl"), "--format", "ses")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {tmp_path / 'nope.jsonl'}: file not found"


def test_bounces_import_rejects_an_unknown_format(digest):
    result = digest("bounces", "import", str(FIXTURES / "ses.jsonl"), "--format", "mailchimp")
    assert result.exit_code == 2 and "mailchimp" in result.output


@pytest.mark.parametrize("group, command", [("suppress", "add"), ("suppress", "import"), ("suppress", "list"),
                                            ("suppress", "export"), ("bounces", "import")])
def test_every_subcommand_has_help_with_an_example(group, command):
    result = CliRunner().invoke(cli, [group, command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
