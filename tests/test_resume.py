"""Crash and resume: a real `digest send` process killed with SIGKILL at several points,
then run again, mails every member with duplicates within the stated bound
(one message per connection for SMTP; none at all for the outbox, which can prove delivery).
Every test runs once per ledger engine (SQLite file, PostgreSQL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from digest.store.ledger import SendLedger

from .conftest import REPO, SEED_ISSUE, ledger_env, write_members
from .smtp_sink import SinkHandler, start_sink

MEMBERS = 60
BATCH, CONCURRENCY = 5, 2


def send_command(tmp_path, ledger, members, **env):
    environ = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    environ.update({
        "DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), **ledger_env(ledger),
        "DIGEST_SENDING_BACKOFF": "0.001", "DIGEST_SENDING_BATCH_SIZE": str(BATCH),
        "DIGEST_SENDING_CONCURRENCY": str(CONCURRENCY), "DIGEST_UNSUBSCRIBE_SECRET": "test-secret",
    })
    environ.update(env)
    # --skip-doctor: the send machinery is under test here, not the sending domain's DNS
    args = [sys.executable, "-m", "digest", "--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE),
            "--members", str(members), "--yes", "--skip-doctor"]
    return args, environ


def start(tmp_path, ledger, members, **env) -> subprocess.Popen:
    args, environ = send_command(tmp_path, ledger, members, **env)
    return subprocess.Popen(args, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(tmp_path, ledger, members, **env) -> subprocess.CompletedProcess:
    args, environ = send_command(tmp_path, ledger, members, **env)
    return subprocess.run(args, env=environ, capture_output=True, text=True, timeout=120)


def signal_when(proc: subprocess.Popen, reached, signum=signal.SIGKILL) -> None:
    deadline = time.monotonic() + 60
    while not reached():
        if proc.poll() is not None:
            pytest.fail(f"the send ended before the kill point: {proc.communicate()}")
        assert time.monotonic() < deadline, "kill point never reached"
        time.sleep(0.001)
    proc.send_signal(signum)


def outbox_inodes(tmp_path) -> dict[str, int]:
    folder = tmp_path / "outbox" / "2015-10"
    return {p.name: p.stat().st_ino for p in folder.glob("*.eml")} if folder.is_dir() else {}


def ledger_counts(target) -> dict[str, int]:
    with SendLedger(target) as ledger:
        return ledger.counts(ledger.send_run("2015-10").id)


@pytest.mark.parametrize("kill_after", [1, 13, 37])
def test_outbox_send_killed_mid_run_resumes_without_skipping_or_rewriting_anyone(tmp_path, ledger_target, kill_after):
    members = write_members(tmp_path / "members.csv", MEMBERS)
    proc = start(tmp_path, ledger_target, members, DIGEST_SENDING_RATE="400")
    signal_when(proc, lambda: len(outbox_inodes(tmp_path)) >= kill_after)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    written = outbox_inodes(tmp_path)
    assert kill_after <= len(written) < MEMBERS
    resumed = finish(tmp_path, ledger_target, members)
    assert resumed.returncode == 0, resumed.stderr
    after = outbox_inodes(tmp_path)
    assert sorted(after) == [f"m{n:04d}@example.org.eml" for n in range(MEMBERS)]
    assert {name: after[name] for name in written} == written  # no member written twice
    assert ledger_counts(ledger_target) == {"sent": MEMBERS}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_smtp_send_killed_at_random_points_duplicates_at_most_one_message_per_connection_per_kill(
        tmp_path, ledger_target, seed):
    """SMTP acknowledges each message and each answer is committed before the next
    message goes, so a kill can only catch the message on the wire: at most one
    duplicate per connection per kill, and nobody skipped."""
    import random

    handler = SinkHandler()
    controller = start_sink(handler)
    smtp = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(controller.port),
            "DIGEST_SMTP_SECURITY": "none"}
    members = write_members(tmp_path / "members.csv", MEMBERS)
    kill_points = sorted(random.Random(seed).sample(range(1, MEMBERS - 5), 3))
    try:
        for kill_after in kill_points:
            proc = start(tmp_path, ledger_target, members, DIGEST_SENDING_RATE="300", **smtp)
            signal_when(proc, lambda: handler.count >= kill_after)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
        resumed = finish(tmp_path, ledger_target, members, **smtp)
    finally:
        controller.stop()
    assert resumed.returncode == 0, resumed.stderr
    received = handler.recipients()
    assert sorted(received) == [f"m{n:04d}@example.org" for n in range(MEMBERS)]
    duplicates = sum(received.values()) - MEMBERS
    assert duplicates <= len(kill_points) * CONCURRENCY, (kill_points, duplicates)
    first_ids: dict[str, str] = {}
    for message in handler.received:  # a copy sent again keeps the first one's Message-ID
        assert first_ids.setdefault(message.recipient, message.message_id) == message.message_id
    assert ledger_counts(ledger_target) == {"sent": MEMBERS}


def test_ctrl_c_stops_after_in_flight_work_and_says_how_to_resume(tmp_path, ledger_target):
    members = write_members(tmp_path / "members.csv", MEMBERS)
    proc = start(tmp_path, ledger_target, members, DIGEST_SENDING_RATE="200")
    signal_when(proc, lambda: len(outbox_inodes(tmp_path)) >= 10, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert f"Interrupted: run `digest send {SEED_ISSUE}` again to resume." in stderr
    counts = ledger_counts(ledger_target)
    assert "sending" not in counts and counts["sent"] == len(outbox_inodes(tmp_path)) < MEMBERS
    written = outbox_inodes(tmp_path)
    resumed = finish(tmp_path, ledger_target, members)
    assert resumed.returncode == 0 and f"{MEMBERS - len(written)} member(s) to send" in resumed.stdout
    after = outbox_inodes(tmp_path)
    assert len(after) == MEMBERS and {name: after[name] for name in written} == written
