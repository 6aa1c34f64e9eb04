"""The audience is fixed when a send starts: written into the ledger with language and
fields, and used by resume and status instead of the members file. Only an explicit,
different --members for a send in progress is refused. Every test runs on both ledger engines."""
from __future__ import annotations

import hashlib

from click.testing import CliRunner

from digest.cli import cli
from digest.delivery.audience import members_file_source, prepare_send, snapshot_audience
from digest.members.file import Member, SkippedMember
from digest.store.ledger import Intent, SendLedger

from .conftest import REPO, SEED_ISSUE, write_members


def digest(tmp_path, *args, input=None):
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
               "DIGEST_MEMBERS_PATH": str(tmp_path / "default.csv")}
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ, input=input)


def outbox(tmp_path):
    folder = tmp_path / "outbox" / "2015-10"
    return sorted(p.name for p in folder.glob("*.eml"))


def start_a_send(ledger_target, members, sent: int):
    """A send of ``members`` that stopped after ``sent`` members (as Ctrl-C leaves it)."""
    with SendLedger(ledger_target) as ledger:
        run = prepare_send(ledger, "2015-10", "outbox", members_file_source(members), explicit=True).run
        done = [row.email for row in ledger.audience_rows(run.id)][:sent]
        ledger.record_intent(run.id, [Intent(email, f"<{n}@x>") for n, email in enumerate(done)])
        ledger.db.execute("UPDATE deliveries SET state = 'sent'")
    return run


def test_resume_without_members_sends_to_the_snapshot_not_the_default_file(tmp_path, ledger_in_env):
    write_members(tmp_path / "default.csv", 2)
    big = tmp_path / "big.csv"
    big.write_text("email,name\n" + "".join(f"big{n}@example.org,Big {n}\n" for n in range(6)), encoding="utf-8")
    start_a_send(ledger_in_env, big, sent=2)
    big.write_text("email,name\nintruder@example.org,Added later\n", encoding="utf-8")  # changed under the send
    dry = digest(tmp_path, "send", str(SEED_ISSUE), "--dry-run")
    assert "4 member(s) to send, 2 already done" in dry.stdout and f"audience taken from {big}" in dry.stdout
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--yes")
    assert result.exit_code == 0, result.output
    assert f"resuming the send in progress for 6 member(s) from {big}" in result.stdout
    assert "4 member(s) to send, 2 already done" in result.stdout
    assert outbox(tmp_path) == [f"big{n}@example.org.eml" for n in range(2, 6)]


def test_an_explicit_different_members_file_is_refused_for_a_send_in_progress(tmp_path, ledger_in_env):
    big = write_members(tmp_path / "big.csv", 5)
    other = write_members(tmp_path / "other.csv", 5)
    start_a_send(ledger_in_env, big, sent=1)
    refused = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(other), "--yes")
    assert refused.exit_code == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"Error: a send of 2015-10 is in progress for the audience taken from {big}")
    assert f"--members {other} is another file" in line and "without --members to finish that send" in line
    write_members(big, 6)
    changed = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(big), "--yes")
    assert changed.exit_code == 1 and f"{big} has changed since" in changed.stderr
    assert outbox(tmp_path) == []
    write_members(big, 5)  # the same content again: the same audience, so it resumes
    same = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(big), "--yes")
    assert same.exit_code == 0 and "4 member(s) to send, 1 already done" in same.stdout


def test_after_a_complete_send_a_new_snapshot_sends_only_the_members_added(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes").exit_code == 0
    write_members(members, 5)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert "audience of 5 member(s)" in result.stdout and "2 member(s) to send, 3 already done" in result.stdout


def test_status_shows_the_audience_source_and_its_hash(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3, "bad-row,,,,\n")
    start_a_send(ledger_in_env, members, sent=1)
    digest_of_file = hashlib.sha256(members.read_bytes()).hexdigest()
    result = digest(tmp_path, "status", str(SEED_ISSUE))
    assert f"Audience: 3 member(s) from {members} (sha256 {digest_of_file}), taken 20" in result.stdout
    assert f"{members}:5: bad-row: not an email address" in result.stderr
    assert "Complete: no: run `digest send" in result.stdout


def test_declining_the_prompt_leaves_no_audience_and_no_run(tmp_path, ledger_in_env):
    members = write_members(tmp_path / "members.csv", 3)
    for answer in ("n\n", ""):  # no, and no answer at all
        result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), input=answer)
        assert result.exit_code == 1 and "Aborted!" in result.output
    with SendLedger(ledger_in_env) as ledger:
        assert ledger.send_run("2015-10") is None
        assert ledger.db.execute("SELECT COUNT(*) FROM audience_members").fetchone()[0] == 0


def test_any_row_source_can_be_snapshotted_with_language_and_fields(tmp_path, ledger_in_env):
    """The contract other member sources plug into: rows in, the audience in the ledger."""
    rows = [Member("a@example.org", "Aiko", "ja", fields={"email": "a@example.org", "city": "Kyoto"}, line=1),
            SkippedMember(2, "nope", "not an email address"),
            Member("A@EXAMPLE.org", "Dup", line=3),
            Member("gone@example.org", "Gone", "en", line=4),
            Member("b@example.org", "Ben", "en", fields={"email": "b@example.org"}, line=5)]
    with SendLedger(ledger_in_env) as ledger:
        ledger.suppress("gone@example.org", "unsubscribe")
        run = ledger.start_send("2015-10", "outbox")
        info = snapshot_audience(ledger, run, rows, source="members-store", source_hash="h1")
        assert (info.source, info.source_hash, info.members, info.skipped) == ("members-store", "h1", 2, 3)
        members = list(ledger.audience_rows(run.id))
        assert [(m.email, m.name, m.language, m.fields.get("city"), m.line) for m in members] == [
            ("a@example.org", "Aiko", "ja", "Kyoto", 1), ("b@example.org", "Ben", "en", None, 5)]
        assert ledger.skipped_counts(run.id) == {"invalid": 1, "duplicate": 1, "suppressed": 1}


def test_members_suppressed_after_the_snapshot_are_not_mailed_and_the_language_is_recorded(tmp_path, ledger_in_env):
    members = tmp_path / "members.csv"
    members.write_text("email,name,language\na@example.org,A,ja\nb@example.org,B,en\n", encoding="utf-8")
    start_a_send(ledger_in_env, members, sent=0)
    with SendLedger(ledger_in_env) as ledger:
        ledger.suppress("b@example.org", "unsubscribe", "web")
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--yes")
    assert result.exit_code == 0, result.output
    assert "1 member(s) unsubscribed since the send started were skipped" in result.stdout
    assert outbox(tmp_path) == ["a@example.org.eml"]
    with SendLedger(ledger_in_env) as ledger:
        rows = ledger.db.execute("SELECT email, state, language FROM deliveries ORDER BY email").fetchall()
    assert rows == [("a@example.org", "sent", "ja"), ("b@example.org", "suppressed", "")]
