"""One send at a time per issue: a lease in the ledger. Two `digest send` processes
started together against a real SMTP server: one sends, the other refuses naming the
holder, and nobody is mailed twice. A stale lease (holder gone, heartbeat old) is taken
over with a message; a run that lost its lease writes no more intents."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.store.ledger import Intent, LeaseLost, SendLedger

from .conftest import REPO, SEED_ISSUE, write_members
from .smtp_sink import SinkHandler, start_sink
from .test_resume import start

MEMBERS = 150


def smtp_env(port: int) -> dict[str, str]:
    return {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
            "DIGEST_SMTP_SECURITY": "none"}


def test_two_sends_started_together_one_refuses_naming_the_holder_and_nobody_is_mailed_twice(tmp_path, ledger_target):
    handler = SinkHandler()
    controller = start_sink(handler)
    members = write_members(tmp_path / "members.csv", MEMBERS)
    try:
        env = {**smtp_env(controller.port), "DIGEST_SENDING_RATE": "75"}
        first, second = start(tmp_path, ledger_target, members, **env), start(tmp_path, ledger_target, members, **env)
        outputs = [proc.communicate(timeout=120) for proc in (first, second)]
    finally:
        controller.stop()
    codes = sorted(proc.returncode for proc in (first, second))
    assert codes == [0, 1], outputs
    refused = next(err for (out, err), proc in zip(outputs, (first, second)) if proc.returncode == 1)
    assert refused.strip().splitlines()[-1].startswith("Error: issue 2015-10 is being sent by ")
    winner_pid = next(proc.pid for proc in (first, second) if proc.returncode == 0)
    assert f"(pid {winner_pid}) since 20" in refused and "this run sent nothing" in refused
    assert handler.recipients() == {f"m{n:04d}@example.org": 1 for n in range(MEMBERS)}


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def plant_lease(ledger_path, pid: int, host: str, heartbeat: datetime) -> None:
    with SendLedger(ledger_path) as ledger:
        ledger.db.execute("INSERT INTO send_leases (issue, holder, pid, host, user_name, acquired_at, heartbeat_at) "
                          "VALUES ('2015-10', 'old-holder', ?, ?, 'someone', '2026-01-01T00:00:00+00:00', ?)",
                          (pid, host, heartbeat.isoformat(timespec="seconds")))


def send_outbox(tmp_path, members):
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")}
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--members",
                                    str(members), "--yes"], env=env)


def test_a_lease_whose_process_is_gone_is_taken_over_with_a_message(tmp_path):
    import socket

    members = write_members(tmp_path / "members.csv", 3)
    pid = dead_pid()
    plant_lease(tmp_path / "ledger.sqlite", pid, socket.gethostname(), datetime.now(timezone.utc))
    result = send_outbox(tmp_path, members)
    assert result.exit_code == 0, result.output
    assert f"Took over the send of 2015-10 from someone@{socket.gethostname()} (pid {pid})" in result.stderr
    assert f"process {pid} is no longer running" in result.stderr
    with SendLedger(tmp_path / "ledger.sqlite") as ledger:
        assert ledger.lease("2015-10") is None  # released at the end
        assert ledger.counts(ledger.send_run("2015-10").id) == {"sent": 3}


@pytest.mark.parametrize(("age", "taken"), [(timedelta(seconds=5), False), (timedelta(minutes=5), True)])
def test_a_lease_held_on_another_host_is_taken_over_only_when_its_heartbeat_is_old(tmp_path, age, taken):
    members = write_members(tmp_path / "members.csv", 2)
    plant_lease(tmp_path / "ledger.sqlite", 4242, "other-host", datetime.now(timezone.utc) - age)
    result = send_outbox(tmp_path, members)
    if taken:
        assert result.exit_code == 0 and "no heartbeat for more than 60 s" in result.stderr
    else:
        assert result.exit_code == 1
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("Error: issue 2015-10 is being sent by someone@other-host (pid 4242) since "
                               "2026-01-01T00:00:00+00:00, last heartbeat 20") and line.endswith("this run sent nothing")
        assert not (tmp_path / "outbox").exists()


def test_status_names_the_run_holding_the_send(tmp_path):
    plant_lease(tmp_path / "ledger.sqlite", 4242, "other-host", datetime.now(timezone.utc))
    with SendLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.start_send("2015-10", "smtp")
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "status", str(SEED_ISSUE)],
                                env={"DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")})
    assert "Being sent now by someone@other-host (pid 4242) since 2026-01-01T00:00:00+00:00" in result.stdout
    with SendLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.db.execute("UPDATE send_leases SET heartbeat_at = '2026-01-01T00:00:00+00:00'")
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "status", str(SEED_ISSUE)],
                                env={"DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")})
    assert "Last held by someone@other-host (pid 4242)" in result.stdout and "no heartbeat for more than 60 s" in result.stdout


def test_a_run_that_lost_its_lease_records_no_intent(ledger_target):
    with SendLedger(ledger_target) as ledger:
        lease, _, _ = ledger.acquire_lease("2015-10")
        run = ledger.start_send("2015-10", "smtp")
        ledger.db.execute("UPDATE send_leases SET holder = 'another run'")
        with pytest.raises(LeaseLost, match="another run took over"):
            ledger.record_intent(run.id, [Intent("a@example.org", "<id@x>")], fence=lambda: ledger.renew_lease(lease))
        assert ledger.counts(run.id) == {}
