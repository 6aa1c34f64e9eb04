"""`digest send` and `digest status` through the CLI with the outbox backend: members
skipped with their lines, resume without re-sending, dry and test runs, refusals."""
from __future__ import annotations

import email
import email.policy
import re

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.content import load_issue
from digest.delivery.audience import members_file_source, prepare_send
from digest.store.ledger import Intent, SendLedger
from digest.render import render_issue
from digest.render.mime import MessageFactory
from digest.delivery.batches import backoff_delay
from digest.members.tokens import read_token

from .conftest import REPO, SEED_ISSUE, settings_with, untouched, write_members


def digest(tmp_path, *args, env=None, input=None):
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
               "DIGEST_SENDING_BACKOFF": "0.001"}
    environ.update(env or {})
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ, input=input)


def outbox_files(tmp_path):
    folder = tmp_path / "outbox" / "2015-10"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def parsed(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_send_mails_every_member_personalised_and_a_second_run_sends_nobody(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 12)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert result.exit_code == 0, result.output
    assert "12 member(s) to send" in result.stdout and "Sent 12, failed 0, deferred 0." in result.stdout
    assert outbox_files(tmp_path) == [f"m{n:04d}@example.org.eml" for n in range(12)]
    message = parsed(tmp_path / "outbox" / "2015-10" / "m0003@example.org.eml")
    assert message["To"] == "Member 3 <m0003@example.org>"
    assert "Dear Member 3," in message.get_body(("plain",)).get_content()
    token = re.search(r"\?token=([\w-]+)(?:&lang=[\w-]+)?>", message["List-Unsubscribe"]).group(1)
    secret = (tmp_path / "secret").read_text(encoding="ascii").strip()  # made by the first local send, beside the ledger
    assert read_token(secret, token)["email"] == "m0003@example.org"
    before = {p.name: p.stat().st_ino for p in (tmp_path / "outbox" / "2015-10").iterdir()}
    again = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert again.exit_code == 0 and "Nothing to send" in again.stdout and "12 already done" in again.stdout
    assert {p.name: p.stat().st_ino for p in (tmp_path / "outbox" / "2015-10").iterdir()} == before


def test_members_added_later_are_the_only_ones_sent_on_the_next_run(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes").exit_code == 0
    write_members(members, 5)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert "2 member(s) to send, 3 already done" in result.stdout and "Sent 2," in result.stdout


def test_bad_duplicate_and_suppressed_rows_are_skipped_with_their_lines(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3, "not-an-address,X,,,\nM0001@EXAMPLE.org,Dup,,,\ngone@example.org,G,,,\n")
    with SendLedger(ledger_in_env) as ledger:
        ledger.suppress("Gone@example.org", "unsubscribe")
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert result.exit_code == 0, result.output
    assert f"Skipped 3 row(s) of {members}: 1 duplicate, 1 invalid, 1 suppressed" in result.stderr
    assert f"{members}:5: not-an-address:" in result.stderr
    assert f"{members}:6: M0001@example.org: duplicate of line 3" in result.stderr
    assert f"{members}:7: gone@example.org: suppressed" in result.stderr
    assert outbox_files(tmp_path) == [f"m{n:04d}@example.org.eml" for n in range(3)]


@pytest.mark.parametrize(("setup", "args", "env", "message"), [
    ("missing", [], {}, "members.csv: members file not found"),
    ("no-email", [], {}, "members.csv:1: members file has no 'email' column"),
    ("ok", [], {"DIGEST_DELIVERY_BACKEND": "pigeon"}, "unknown delivery backend 'pigeon' (known: mailgun, outbox, postmark, resend, sendgrid, ses, smtp"),
    ("ok", [], {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_USERNAME": "bob", "SMTP_PASSWORD": ""},
     "environment variable SMTP_PASSWORD (the SMTP password for bob) is not set"),
    ("ok", [], {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_UNSUBSCRIBE_SECRET": ""},
     "environment variable DIGEST_UNSUBSCRIBE_SECRET (the unsubscribe link secret) is not set"),
    ("ok", [], {"DIGEST_SENDING_CONCURRENCY": "0"}, "[sending] concurrency must be at least 1"),
])
def test_bad_input_is_one_line_error_and_nothing_is_sent(tmp_path, ledger_in_env, setup, args, env, message):
    members = tmp_path / "members.csv"
    if setup == "no-email":
        members.write_text("name,address\nA,a@example.org\n", encoding="utf-8")
    elif setup == "ok":
        write_members(members, 2)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", *args, env=env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert outbox_files(tmp_path) == []
    assert untouched(ledger_in_env) or _rows(ledger_in_env) == 0


def _rows(ledger_target):
    with SendLedger(ledger_target) as ledger:
        return ledger.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]


def test_dry_run_renders_and_counts_but_sends_and_records_nothing(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 5, "bad,,,,\n")
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--dry-run",
                    env={"DIGEST_DELIVERY_BACKEND": "smtp"})
    assert result.exit_code == 0, result.output
    assert "5 member(s) to send, 0 already done, via smtp://localhost:587 (starttls)" in result.stdout
    assert "Dry run: nothing sent, nothing recorded." in result.stdout and f"{members}:7: bad:" in result.stderr
    assert untouched(ledger_in_env) and outbox_files(tmp_path) == []


def test_test_send_goes_to_the_test_folder_is_not_recorded_and_never_touches_a_members_file(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3)
    real = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert real.exit_code == 0 and "3 member(s) to send" in real.stdout
    delivered = tmp_path / "outbox" / "2015-10" / "m0001@example.org.eml"
    before = delivered.read_bytes()
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--test", "m0001@example.org")
    assert result.exit_code == 0, result.output
    message = parsed(tmp_path / "outbox" / "2015-10" / "test" / "m0001@example.org.eml")
    assert message["Subject"].startswith("[TEST] ICLEI Japan News")
    assert "Dear Member 1," in message.get_body(("plain",)).get_content()
    assert delivered.read_bytes() == before
    assert _rows(ledger_in_env) == 3 and outbox_files(tmp_path) == ["m0000@example.org.eml", "m0001@example.org.eml",
                                                                    "m0002@example.org.eml", "test"]


def test_confirmation_shows_issue_backend_and_count_and_no_sends_nothing(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 4)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), input="n\n")
    assert result.exit_code == 1
    assert f"Send 2015-10 to 4 member(s) via outbox ({tmp_path / 'outbox'})? [y/N]" in result.output
    assert outbox_files(tmp_path) == [] and _rows(ledger_in_env) == 0
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), input="y\n")
    assert result.exit_code == 0 and len(outbox_files(tmp_path)) == 4


def test_resume_confirms_outbox_files_left_in_flight_and_resends_the_rest_under_the_same_id(tmp_path, ledger_in_env):
    """A run that died mid-batch: two rows 'sending', one file written, one not."""
    settings = settings_with(tmp_path, ledger_in_env)
    members = write_members(tmp_path / "members.csv", 4)
    factory = MessageFactory(render_issue(load_issue(SEED_ISSUE), settings), settings, "secret")
    written, lost = factory.personalise("m0000@example.org"), factory.personalise("m0001@example.org")
    with SendLedger(ledger_in_env) as ledger:
        run = prepare_send(ledger, "2015-10", "outbox", members_file_source(members), explicit=False).run
        ledger.record_intent(run.id, [Intent(written.recipient, written.message_id), Intent(lost.recipient, lost.message_id)])
    target = tmp_path / "outbox" / "2015-10" / "m0000@example.org.eml"
    target.parent.mkdir(parents=True)
    target.write_bytes(written.raw)
    inode = target.stat().st_ino
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert result.exit_code == 0, result.output
    assert "1 member(s) in flight when the last run stopped were found delivered" in result.stdout
    assert "1 member(s) in flight when the last run stopped were sent again" in result.stdout
    assert target.stat().st_ino == inode
    assert parsed(tmp_path / "outbox" / "2015-10" / "m0001@example.org.eml")["Message-ID"] == lost.message_id
    assert len(outbox_files(tmp_path)) == 4
    with SendLedger(ledger_in_env) as ledger:
        assert ledger.counts(run.id) == {"sent": 4}


def test_status_counts_states_shows_last_errors_and_completeness(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3)
    assert "not sent yet" in digest(tmp_path, "status", str(SEED_ISSUE)).stdout
    digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    with SendLedger(ledger_in_env) as ledger:
        ledger.db.execute("UPDATE deliveries SET state = 'failed', error = '550 5.1.1 no such user' WHERE email = 'm0002@example.org'")
    result = digest(tmp_path, "status", str(SEED_ISSUE))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "  sent      2" in lines and "  failed    1" in lines
    assert "  m0002@example.org  failed  550 5.1.1 no such user" in lines
    assert "Complete: yes" in result.stdout
    write_members(members, 4)
    with SendLedger(ledger_in_env) as ledger:
        ledger.db.execute("UPDATE sends SET completed_at = NULL")
    assert "Complete: no: run `digest send" in digest(tmp_path, "status", str(SEED_ISSUE)).stdout


def test_status_of_a_folder_that_does_not_exist_is_a_one_line_error(tmp_path):
    result = digest(tmp_path, "status", "issues/no-such-issue")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: issues/no-such-issue: not an issue folder (no such directory)"


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after():
    assert all(0.5 <= backoff_delay(1.0, 0) <= 1.5 for _ in range(50))
    assert all(4.0 <= backoff_delay(1.0, 3) <= 12.0 for _ in range(50))
    assert backoff_delay(0.001, 0, retry_after=7.0) == 7.0
    assert backoff_delay(1.0, 30) <= 450.0


def test_batch_size_is_capped_by_the_backend_and_a_rate_keeps_batches_to_a_second(tmp_path):
    from digest.delivery.backends import get_backend
    from digest.delivery.batches import SendOptions

    outbox = get_backend(settings_with(tmp_path))
    assert [SendOptions(batch_size=size).batch_size_for(outbox) for size in (0, 500, 7)] == [100, 100, 7]
    assert [SendOptions(rate=rate).batch_size_for(outbox) for rate in (10, 0.5, 1000)] == [10, 1, 100]
    assert SendOptions(rate=10, batch_size=40).batch_size_for(outbox) == 40
