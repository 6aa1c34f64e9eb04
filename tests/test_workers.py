"""Shared sends: batches claimed under leases, a lapsed lease taken over, one rate for
every worker, and three real worker processes against the SMTP sink with one killed
mid-batch. Every test runs on both ledger engines."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from digest.cli import cli
from digest.members.file import Member
from digest.store.ledger import AudienceBlock, Intent, Outcome, SendLedger

from .conftest import REPO, SEED_ISSUE, ledger_env, write_members
from .smtp_sink import SinkHandler, start_sink


def shared_ledger(target, size=10, batch=4) -> tuple[SendLedger, int]:
    """A ledger with a send whose audience snapshot of ``size`` members is cut into batches."""
    ledger = SendLedger(target)
    run = ledger.start_send("2015-10", "outbox")
    members = [Member(f"m{n}@example.org", f"M {n}", "ja" if n % 2 else "en", fields={"city": "Kyoto"}, line=n + 2)
               for n in range(size)]
    ledger.write_audience(run.id, [AudienceBlock(members, [])], "members.csv", lambda: "0" * 64)
    ledger.ensure_batches(run.id, batch)
    return ledger, run.id


def test_the_audience_snapshot_is_cut_into_batches_once(ledger_target):
    ledger, send_id = shared_ledger(ledger_target)
    with ledger:
        assert ledger.ensure_batches(send_id, 2) == 3, "a second start keeps the batches it found"
        assert ledger.batches_by_state(send_id) == {"pending": 3}
        last = ledger.claim_batch(send_id, "w", 60)
        assert (last.first, last.last) == (1, 4)
        ranges = [(c.first, c.last) for c in (ledger.claim_batch(send_id, "w", 60), ledger.claim_batch(send_id, "w", 60))]
        assert ranges == [(5, 8), (9, 10)]


def test_two_workers_never_hold_the_same_batch_and_a_lapsed_lease_is_taken_over(ledger_target):
    ledger, send_id = shared_ledger(ledger_target)
    other = SendLedger(ledger_target)
    with ledger, other:
        first = ledger.claim_batch(send_id, "a", lease_seconds=60)
        second = other.claim_batch(send_id, "b", lease_seconds=0.5)
        third = ledger.claim_batch(send_id, "a", lease_seconds=60)
        assert (first.batch, second.batch, third.batch) == (0, 1, 2)
        assert other.claim_batch(send_id, "c", 60) is None, "every batch is held"
        time.sleep(0.6)  # b dies: its lease lapses
        taken = other.claim_batch(send_id, "c", 60)
        assert (taken.batch, taken.claims, taken.previous) == (1, 2, "b")
        ledger.end_batch(send_id, 1, "b", done=True)  # b came back too late: the batch is not b's any more
        assert ledger.batches_by_state(send_id) == {"claimed": 3}
        ledger.end_batch(send_id, 0, "a", done=True)
        ledger.end_batch(send_id, 2, "a", done=False)  # stopped: back to pending for anyone
        assert ledger.batches_by_state(send_id) == {"done": 1, "claimed": 1, "pending": 1}


def test_done_batches_with_members_not_answered_for_good_are_reopened(ledger_target):
    ledger, send_id = shared_ledger(ledger_target, size=4, batch=2)
    with ledger:
        for worker in ("a", "b"):
            claim = ledger.claim_batch(send_id, worker, 60)
            ledger.end_batch(send_id, claim.batch, worker, done=True)
        ledger.record_intent(send_id, [Intent(f"m{n}@example.org", f"<{n}@x>") for n in range(4)])
        ledger.record_outcomes(send_id, [Outcome("m0@example.org", "sent"), Outcome("m1@example.org", "failed"),
                                         Outcome("m2@example.org", "sent"), Outcome("m3@example.org", "deferred")])
        assert ledger.reopen_batches(send_id) == 1
        assert ledger.claim_batch(send_id, "c", 60).batch == 1
        assert ledger.complete_if_done(send_id) is False


def test_the_rate_is_shared_by_every_connection_to_the_send(ledger_target):
    ledger, send_id = shared_ledger(ledger_target)
    other = SendLedger(ledger_target)
    with ledger, other:
        ledger.set_rate(send_id, 10.0)
        waits = [connection.pace(send_id, 5) for _ in range(3) for connection in (ledger, other)]
    # six bookings of five messages at 10/s: slots half a second apart, whoever books
    assert waits[0] < 0.1
    assert [round(b - a, 1) for a, b in zip(waits, waits[1:])] == [0.5] * 5


def digest_process(tmp_path, ledger_target, *args, **env) -> subprocess.Popen:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    environ.update({"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), **ledger_env(ledger_target),
                    "DIGEST_SENDING_BACKOFF": "0.001", "DIGEST_UNSUBSCRIBE_SECRET": "test-secret", **env})
    return subprocess.Popen([sys.executable, "-m", "digest", "--config", str(REPO / "config.toml"), *args],
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


MEMBERS, RATE, BATCH, LEASE = 240, 40, 10, 2


def test_three_workers_one_killed_mid_batch_skip_nobody_and_keep_the_shared_rate(tmp_path, ledger_target):
    handler = SinkHandler()
    controller = start_sink(handler)
    members = write_members(tmp_path / "members.csv", MEMBERS)
    smtp = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(controller.port),
            "DIGEST_SMTP_SECURITY": "none", "DIGEST_SENDING_RATE": str(RATE), "DIGEST_SENDING_BATCH_SIZE": str(BATCH),
            "DIGEST_SENDING_LEASE_SECONDS": str(LEASE)}
    try:
        # --skip-doctor: the workers are under test here, not the sending domain's DNS
        proc = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                              "--workers", "3", "--skip-doctor", **smtp)
        victim, in_flight = kill_a_helper_mid_batch(proc, ledger_target, handler)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        controller.stop()
    assert proc.returncode == 0, stderr
    assert "complete: yes" in stdout and "1 worker process(es) ended abnormally" in stderr
    received = handler.recipients()
    assert sorted(received) == [f"m{n:04d}@example.org" for n in range(MEMBERS)], "nobody skipped"
    duplicates = sum(received.values()) - MEMBERS
    # one SMTP connection a worker, answers recorded message by message: at most the one on the wire
    assert duplicates <= 1, f"{duplicates} duplicates; the killed worker {victim} had {in_flight} in flight"
    first_ids: dict[str, str] = {}
    for message in handler.received:  # a copy sent again keeps the first one's Message-ID
        assert first_ids.setdefault(message.recipient, message.message_id) == message.message_id
    times = sorted(message.at for message in handler.received)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= RATE * 1.1, f"{busiest} messages in one second, rate {RATE}"
    with SendLedger(ledger_target) as ledger:
        run = ledger.send_run("2015-10")
        assert ledger.counts(run.id) == {"sent": MEMBERS} and run.completed_at
        assert len(ledger.workers(run.id)) == 3


def kill_a_helper_mid_batch(proc, ledger_target, handler) -> tuple[int, int]:
    """SIGKILL a worker process other than the one started (it waits for the others)
    while it holds a batch with messages handed to the server and not yet answered;
    returns its pid and how many of its members were then in flight."""
    deadline = time.monotonic() + 60
    with SendLedger(ledger_target) as ledger:
        while True:
            assert proc.poll() is None and time.monotonic() < deadline, "no worker was ever caught mid-batch"
            run = ledger.send_run("2015-10")
            busy = [w for w in ledger.workers(run.id) if w.pid != proc.pid and w.batches] if run else []
            if busy and handler.count >= MEMBERS // 4:
                victim = busy[0]
                os.kill(victim.pid, signal.SIGKILL)
                time.sleep(0.2)
                rows = ledger.db.execute(
                    "SELECT COUNT(*) FROM deliveries d JOIN batches b ON b.send_id = d.send_id JOIN audience_members a "
                    "ON a.send_id = d.send_id AND lower(a.email) = d.email "
                    "AND a.position BETWEEN b.first_position AND b.last_position "
                    "WHERE d.send_id = ? AND b.worker = ? AND b.state = 'claimed' AND d.state = 'sending'",
                    (run.id, victim.worker)).fetchone()[0]
                return victim.pid, int(rows)
            time.sleep(0.01)


def test_a_plain_send_refuses_while_workers_are_alive_and_join_adds_one(tmp_path, ledger_target):
    members = write_members(tmp_path / "members.csv", 60)
    slow = {"DIGEST_SENDING_RATE": "20", "DIGEST_SENDING_BATCH_SIZE": "10"}
    proc = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                          "--workers", "1", **slow)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "outbox" / "2015-10").is_dir() or not any((tmp_path / "outbox" / "2015-10").iterdir()):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_UNSUBSCRIBE_SECRET": "test-secret",
               **ledger_env(ledger_target)}
        args = ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--yes"]
        refused = CliRunner().invoke(cli, args, env=env)
        assert refused.exit_code == 1 and "is being sent by" in refused.output
        assert f"to add workers to that send: `digest send {SEED_ISSUE} --join`" in refused.output
        joined = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--join", **slow)
        assert joined.wait(timeout=60) == 0, joined.communicate()
        assert proc.wait(timeout=60) == 0, proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(list((tmp_path / "outbox" / "2015-10").iterdir())) == 60
    status = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "status", str(SEED_ISSUE)],
                                env=ledger_env(ledger_target))
    assert "Shared send: batches 0 pending, 0 claimed, 6 done; rate 20 msg/s" in status.output
    assert status.output.count("  worker ") == 2 and "Complete: yes" in status.output


def test_a_killed_shared_send_resumes_after_its_lease_without_rewriting_anyone(tmp_path, ledger_target):
    members = write_members(tmp_path / "members.csv", 60)
    env = {"DIGEST_SENDING_RATE": "100", "DIGEST_SENDING_BATCH_SIZE": "8", "DIGEST_SENDING_LEASE_SECONDS": "1"}
    outbox = tmp_path / "outbox" / "2015-10"
    proc = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                          "--workers", "1", **env)
    deadline = time.monotonic() + 60
    while not outbox.is_dir() or len(list(outbox.iterdir())) < 13:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.002)
    proc.kill()
    proc.wait()
    written = {p.name: p.stat().st_ino for p in outbox.iterdir()}
    assert len(written) < 60
    time.sleep(1.2)  # the dead worker's lease lapses
    resumed = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--yes", **env)
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert "resuming the send in progress for 60 member(s)" in stdout and "complete: yes" in stdout
    after = {p.name: p.stat().st_ino for p in outbox.iterdir()}
    assert sorted(after) == [f"m{n:04d}@example.org.eml" for n in range(60)]
    assert {name: after[name] for name in written} == written, "no member written twice"


def test_status_watch_shows_a_complete_send_once_and_returns(tmp_path, ledger_target):
    members = write_members(tmp_path / "members.csv", 5)
    proc = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                          "--workers", "2")
    assert proc.wait(timeout=120) == 0, proc.communicate()
    watched = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "status", str(SEED_ISSUE), "--watch"],
                                 env=ledger_env(ledger_target))
    assert watched.exit_code == 0
    assert watched.output.count("Issue 2015-10: send via outbox") == 1 and "Complete: yes" in watched.output
    assert "rate unlimited" in watched.output and "holds none" in watched.output


def test_ctrl_c_stops_every_worker_after_its_messages_in_flight_and_hands_batches_back(tmp_path, ledger_target):
    members = write_members(tmp_path / "members.csv", 80)
    env = {"DIGEST_SENDING_RATE": "40", "DIGEST_SENDING_BATCH_SIZE": "10"}
    outbox = tmp_path / "outbox" / "2015-10"
    proc = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--members", str(members), "--yes",
                          "--workers", "2", **env)
    deadline = time.monotonic() + 60
    with SendLedger(ledger_target) as ledger:
        while True:  # both workers at work
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            run = ledger.send_run("2015-10")
            if run and len([w for w in ledger.workers(run.id) if w.batches]) == 2:
                break
            time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"Interrupted: run `digest send {SEED_ISSUE}` again to resume." in stderr
    with SendLedger(ledger_target) as ledger:
        run = ledger.send_run("2015-10")
        assert "claimed" not in ledger.batches_by_state(run.id), "every batch handed back"
        assert {w.state for w in ledger.workers(run.id)} == {"stopped"}
        assert "sending" not in ledger.counts(run.id)
    written = {p.name: p.stat().st_ino for p in outbox.iterdir()}
    assert 0 < len(written) < 80
    resumed = digest_process(tmp_path, ledger_target, "send", str(SEED_ISSUE), "--yes", **env)
    assert resumed.wait(timeout=120) == 0, resumed.communicate()
    after = {p.name: p.stat().st_ino for p in outbox.iterdir()}
    assert len(after) == 80 and {name: after[name] for name in written} == written
