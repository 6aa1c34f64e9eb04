"""Progress of a send: a real bar with percentage, rate and time left on a terminal;
plain full lines (never a carriage return) at least every few seconds in a log; and a
visible line for every wait before a retry, so an unreachable server is never silent."""
from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import time

from click.testing import CliRunner

from digest.cli import cli
from digest.cli.progress import PlainProgress, progress_line
from digest.delivery.send import Progress

from .conftest import REPO, SEED_ISSUE, write_members
from .smtp_sink import free_port
from .test_resume import send_command


def test_a_progress_line_has_done_of_total_percentage_outcomes_rate_and_time_left():
    progress = Progress(total=200, sent=40, failed=5, deferred=5, remaining=150, started=time.monotonic() - 10)
    assert progress_line(progress) == "50/200 (25%): sent 40, failed 5, deferred 5; 4.0 msg/s; 0:37 left"
    assert progress_line(Progress(total=3, sent=3, remaining=0)).endswith("; done")


def test_plain_progress_writes_whole_lines_on_a_timer_even_when_nothing_moves():
    out = io.StringIO()
    with PlainProgress(10, out, every=0.05) as display:
        display.update(Progress(total=10, sent=1, remaining=9))
        time.sleep(0.4)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 4 and "\r" not in out.getvalue()
    assert all(line.startswith("1/10 (10%): sent 1") for line in lines)


def test_waiting_for_an_unreachable_server_shows_each_retry_on_its_own_line(tmp_path):
    members = write_members(tmp_path / "members.csv", 2)
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
           "DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(free_port()),
           "DIGEST_SMTP_SECURITY": "none", "DIGEST_UNSUBSCRIBE_SECRET": "s", "DIGEST_SENDING_RETRIES": "2",
           "DIGEST_SENDING_BACKOFF": "0.001"}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--members",
                                      str(members), "--yes", "--skip-doctor"], env=env)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    retries = [line for line in lines if "retry" in line]
    assert [line.split("; ")[-1].split(" of ")[0] for line in retries] == ["retry 1/2", "retry 2/2"]
    assert retries[0].startswith(f"cannot connect to SMTP server 127.0.0.1:{env['DIGEST_SMTP_PORT']}")
    assert lines[-1].startswith("Error: ") and "\r" not in result.stderr


def test_on_a_terminal_the_send_draws_a_bar_with_percentage_rate_and_eta(tmp_path):
    members = write_members(tmp_path / "members.csv", 30)
    args, environ = send_command(tmp_path, tmp_path / "ledger.sqlite", members, DIGEST_SENDING_RATE="60",
                                 DIGEST_SENDING_CONCURRENCY="1")
    environ.update({"COLUMNS": "160", "TERM": "xterm"})
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, env=environ, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    screen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    proc.wait(timeout=30)
    os.close(leader)
    text = screen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "100%" in text and "30/30" in text and "msg/s" in text and "ETA" in text
    assert "\x1b[" in text  # drawn in place with terminal controls, not printed line after line
