"""`digest doctor` (text and JSON, exit 1 on errors) and the DNS gate of `digest send`:
through SMTP a wrong record stops the send unless --skip-doctor, DNS that does not
answer is a warning and the send goes on, and the outbox is never held up."""
from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .conftest import REPO, SEED_ISSUE, write_members
from .deliverability import add_sending_domain, dkim_keys, dns_zones, doctor_environ  # noqa: F401 (fixtures)
from .dns_server import SilentServer


def digest(tmp_path, *args, env):
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
               "DIGEST_SENDING_BACKOFF": "0.001", "DIGEST_UNSUBSCRIBE_SECRET": "test-secret",
               "XDG_STATE_HOME": str(tmp_path / "state")}  # each folder a separate installation with its own trail of sends
    environ.update({f"DIGEST_{key.upper()}": value for key, value in env.items()})
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ)


@pytest.fixture
def domain(dns_zones, dkim_keys):
    """``make(name, spf=None)`` -> environment for sending as news@<name>.test, signing with
    the rsa key, through the loopback DNS server; ``spf`` replaces the SPF record."""
    zones, server = dns_zones

    def make(name, spf=None, **overrides):
        domain = f"{name}.test"
        add_sending_domain(zones, domain, dkim_keys["rsa"][1])
        if spf is not None:
            zones.remove(domain, "TXT")
            zones.txt(domain, spf)
        return doctor_environ(domain, server.nameserver, dkim_keys["rsa"][0], **overrides)

    return make


def test_doctor_on_a_good_domain_exits_0_and_lists_what_it_found(tmp_path, domain):
    result = digest(tmp_path, "doctor", env=domain("cli-good", delivery_backend="outbox"))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("From domain cli-good.test, return path cli-good.test, via outbox")
    assert "info     SPF    cli-good.test: v=spf1 include:_spf.cli-good.test -all (2 of 10 DNS lookups)" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 errors, 0 warnings"


def test_doctor_exits_1_on_an_error_and_prints_the_fix(tmp_path, domain):
    result = digest(tmp_path, "doctor", env=domain("cli-plus-all", spf="v=spf1 +all", delivery_backend="outbox"))
    assert result.exit_code == 1
    assert "error    SPF    cli-plus-all.test: SPF ends in +all" in result.stdout
    assert "fix: replace +all by -all in the TXT record at cli-plus-all.test" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 error, 0 warnings"


def test_doctor_json_lists_every_finding_with_its_fix(tmp_path, domain):
    result = digest(tmp_path, "doctor", "--format", "json", env=domain("cli-json", spf="v=spf1 include:_spf.cli-json.test ~all",
                                                                         delivery_backend="outbox"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["errors"], report["warnings"]) == (0, 1)
    softfail = next(f for f in report["findings"] if f["code"] == "spf-softfail-all")
    assert softfail == {"code": "spf-softfail-all", "check": "spf", "severity": "warning", "subject": "cli-json.test",
                        "problem": softfail["problem"], "fix": "once every sender is listed, end the record at cli-json.test with -all"}


def test_doctor_connects_to_the_smtp_server(tmp_path, domain, smtp_sink):
    _, port = smtp_sink
    result = digest(tmp_path, "doctor", env=domain("cli-smtp", smtp_host="127.0.0.1", smtp_port=str(port)))
    assert result.exit_code == 1  # the sink offers no STARTTLS, which [smtp] security = starttls needs
    assert f"error    SMTP   127.0.0.1:{port}: the server does not offer STARTTLS" in result.stdout


def test_doctor_with_a_missing_key_file_reports_it_and_checks_the_rest(tmp_path, domain):
    result = digest(tmp_path, "doctor", env=domain("cli-nokey", delivery_backend="outbox",
                                                   dkim_private_key_path=str(tmp_path / "gone.pem")))
    assert result.exit_code == 1
    assert f"error    DKIM   cli-nokey.test: DKIM private key {tmp_path / 'gone.pem'} does not exist" in result.stdout
    assert "info     DMARC" in result.stdout


def smtp_send(tmp_path, env, *options):
    tmp_path.mkdir(exist_ok=True)
    members = write_members(tmp_path / "members.csv", 2)
    return digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes", *options, env=env)


def smtp_env(env, port):
    return {**env, "smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_security": "none"}


def test_send_through_smtp_stops_before_anything_goes_out_when_a_record_is_wrong(tmp_path, domain, smtp_sink):
    handler, port = smtp_sink
    result = smtp_send(tmp_path, smtp_env(domain("gate-missing-spf", spf="nothing to see"), port))
    assert result.exit_code == 1 and handler.count == 0
    assert "error    SPF    gate-missing-spf.test: the From domain has no SPF record" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: the DNS checks found 1 error, 0 warnings: nothing was sent. Fix the records above "
        "(`digest doctor` shows them all), or pass --skip-doctor to send anyway")


def test_skip_doctor_sends_anyway_and_says_so(tmp_path, domain, smtp_sink):
    handler, port = smtp_sink
    result = smtp_send(tmp_path, smtp_env(domain("gate-skip", spf="nothing to see"), port), "--skip-doctor")
    assert result.exit_code == 0, result.output
    assert handler.count == 2
    assert "Warning: --skip-doctor: SPF, DKIM and DMARC were not checked before this send." in result.stderr


def test_send_through_smtp_with_good_records_goes_ahead_signed(tmp_path, domain, smtp_sink):
    handler, port = smtp_sink
    result = smtp_send(tmp_path, smtp_env(domain("gate-good"), port))
    assert result.exit_code == 0, result.output
    assert handler.count == 2 and all(r.raw.startswith(b"DKIM-Signature: ") for r in handler.received)
    assert "SPF" not in result.stderr


def timed(run):
    started = time.monotonic()
    result = run()
    return result, time.monotonic() - started


def test_dns_that_does_not_answer_is_a_warning_and_the_send_goes_on_within_two_seconds(tmp_path, domain, smtp_sink):
    handler, port = smtp_sink
    silent = SilentServer()
    try:
        env = smtp_env(domain("gate-silent", doctor_nameservers=silent.nameserver), port)
        smtp_send(tmp_path / "warm-up", env, "--dry-run")  # imports and first render out of the timings
        skipped, without_gate = timed(lambda: smtp_send(tmp_path / "skipped", env, "--skip-doctor"))
        result, with_gate = timed(lambda: smtp_send(tmp_path / "gated", env))
    finally:
        silent.close()
    assert skipped.exit_code == 0 and result.exit_code == 0, result.output
    assert handler.recipients() == {"m0000@example.org": 2, "m0001@example.org": 2}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning  DNS")]
    assert [line.split(": ", 1)[1] for line in warnings] == [
        f"could not check {check}: DNS gave no answer within 2 s" for check in ("SPF", "DKIM", "DMARC")]
    assert 1.5 < with_gate - without_gate < 3.5  # two seconds for the three checks together, not two each


def test_the_outbox_is_sent_without_asking_dns(tmp_path, domain):
    silent = SilentServer()
    try:
        env = {**domain("gate-outbox", spf="nothing to see", doctor_nameservers=silent.nameserver), "delivery_backend": "outbox"}
        result = smtp_send(tmp_path, env)
    finally:
        silent.close()
    assert result.exit_code == 0, result.output
    assert "DNS" not in result.stderr and "SPF" not in result.stderr
    assert len(list((tmp_path / "outbox" / "2015-10").glob("*.eml"))) == 2
