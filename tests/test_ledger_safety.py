"""The ledger as the record that stops a second mailing: a deleted or moved ledger is
noticed before anyone is mailed again, a damaged one is a one-line error, and a disk
that fills mid-send stops the run before a message it could not record, so the resume
mails nobody twice."""
from __future__ import annotations

import resource
import subprocess

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .conftest import REPO, SEED_ISSUE, write_members
from .smtp_sink import SinkHandler, start_sink
from .test_resume import finish, ledger_counts, send_command


def digest(tmp_path, *args, ledger="ledger.sqlite", **env):
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / ledger), **env}
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ)


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def outbox_inodes(tmp_path):
    return {p.name: p.stat().st_ino for p in (tmp_path / "outbox" / "2015-10").glob("*.eml")}


def test_a_deleted_ledger_is_refused_until_new_ledger_confirms_and_then_it_says_what_it_found(tmp_path):
    members = write_members(tmp_path / "members.csv", 4)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes").exit_code == 0
    before = outbox_inodes(tmp_path)
    for path in tmp_path.glob("ledger.sqlite*"):
        path.unlink()
    error = one_line_error(digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes"))
    assert "2015-10 was sent at" in error and "to 4 member(s) via outbox" in error and "which was missing" in error
    assert "already holds 4 message(s) of 2015-10" in error and "--new-ledger" in error and "nothing was sent" in error
    assert outbox_inodes(tmp_path) == before
    again = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", "--new-ledger")
    assert again.exit_code == 0, again.output
    assert "--new-ledger: 2015-10 was sent at" in again.stderr and "sending 2015-10 as a new send" in again.stderr
    assert "Sent 4," in again.stdout


def test_a_deleted_ledger_is_noticed_for_smtp_too_where_the_server_cannot_be_asked(tmp_path, smtp_sink):
    handler, port = smtp_sink
    env = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
           "DIGEST_SMTP_SECURITY": "none", "DIGEST_UNSUBSCRIBE_SECRET": "s"}
    members = write_members(tmp_path / "members.csv", 3)
    assert digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", "--skip-doctor", **env).exit_code == 0
    moved = one_line_error(digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", "--skip-doctor",
                                  ledger="elsewhere.sqlite", **env))
    assert f"recorded in {tmp_path / 'ledger.sqlite'}, not the ledger configured now ({tmp_path / 'elsewhere.sqlite'})" in moved
    for path in tmp_path.glob("ledger.sqlite*"):
        path.unlink()
    deleted = one_line_error(digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", "--skip-doctor", **env))
    assert f"recorded in {tmp_path / 'ledger.sqlite'}, which was missing" in deleted
    assert handler.count == 3


@pytest.mark.parametrize("damage", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 8000])
def test_a_damaged_ledger_is_a_one_line_error_saying_what_to_do(tmp_path, damage):
    members = write_members(tmp_path / "members.csv", 2)
    (tmp_path / "ledger.sqlite").write_bytes(damage)
    for args in (["send", str(SEED_ISSUE), "--members", str(members), "--yes"], ["status", str(SEED_ISSUE)]):
        error = one_line_error(digest(tmp_path, *args))
        assert error.startswith(f"Error: {tmp_path / 'ledger.sqlite'}: the ledger is damaged: restore it from a backup")
    assert not (tmp_path / "outbox").exists()


def test_a_file_size_limit_hit_mid_send_stops_before_an_unrecordable_message_and_resume_mails_nobody_twice(tmp_path):
    """The ledger's disk 'fills' (ulimit -f) part way through an SMTP send with two
    connections: the run stops with a one-line error, the batches in flight are still
    recorded, and the resume sends each remaining member exactly once."""
    handler = SinkHandler()
    controller = start_sink(handler)
    smtp = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(controller.port),
            "DIGEST_SMTP_SECURITY": "none"}
    members = write_members(tmp_path / "members.csv", 400)
    limit = 2 * 1024 * 1024 + 800 * 1024  # room for the audience and a few batches, not for all 400

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    try:
        args, env = send_command(tmp_path, tmp_path / "ledger.sqlite", members, **smtp)
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, preexec_fn=limited)
        stopped_at = handler.count
        after_stop = ledger_counts(tmp_path / "ledger.sqlite")
        resumed = finish(tmp_path, tmp_path / "ledger.sqlite", members, **smtp)
    finally:
        controller.stop()
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "Traceback" not in proc.stderr
    assert "free some space, then run `digest send` again to resume" in last
    assert 0 < stopped_at < 400
    assert "sending" not in after_stop and after_stop["sent"] == stopped_at  # batches in flight were drained and recorded
    assert resumed.returncode == 0, resumed.stderr
    assert handler.recipients() == {f"m{n:04d}@example.org": 1 for n in range(400)}
    assert ledger_counts(tmp_path / "ledger.sqlite") == {"sent": 400}
