"""The members store and ``digest members``: idempotent imports that never resubscribe,
suppressions as statuses (migrated from the old table), exports, and forgetting. The
store's tests run on both ledger engines, so every machine sharing a PostgreSQL ledger
sees the same members and unsubscribes."""
from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.cli.members import MEMBER_STATUSES
from digest.errors import LedgerError
from digest.store.ledger import STATUSES, Intent, Outcome, SendLedger
from digest.store.members import consent_network

from .conftest import REPO, SEED_ISSUE, ledger_env


@pytest.fixture
def ledger_path(ledger_target):
    """The store of the test, once per ledger engine (a file, or a PostgreSQL schema)."""
    return ledger_target


@pytest.fixture
def digest(ledger_path, tmp_path):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--config", str(REPO / "config.toml"), *args], input=input,
                             env={**ledger_env(ledger_path), "DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"),
                                  "DIGEST_UNSUBSCRIBE_SECRET": "test-secret"})

    return run


def members_csv(tmp_path: Path, text: str, name: str = "members.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def statuses(ledger_path: Path) -> dict[str, str]:
    with SendLedger(ledger_path) as ledger:
        return {m.email: m.status for m in ledger.members()}


def test_import_reports_every_row_by_line_and_a_second_run_changes_nothing(digest, tmp_path, ledger_path):
    path = members_csv(tmp_path, "email,name,language,city\n"
                                 "aiko@example.org,Aiko,ja,Kyoto\n"
                                 "not-an-address,X,en,\n"
                                 "AIKO@example.org,Dup,en,\n"
                                 "ben@example.org,Ben,en,Iloilo\n")
    first = digest("members", "import", str(path))
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [f"{path}:2: added aiko@example.org", f"{path}:5: added ben@example.org",
                                         f"{path}: 2 added, 0 updated, 2 skipped"]
    assert first.stderr.splitlines()[0].startswith(f"{path}:3: skipped not-an-address (not an email address")
    assert first.stderr.splitlines()[1] == f"{path}:4: skipped AIKO@example.org (duplicate of line 2)"
    second = digest("members", "import", str(path))
    assert second.stdout.splitlines()[-1] == f"{path}: 0 added, 0 updated, 4 skipped"
    assert f"{path}:2: skipped aiko@example.org (unchanged)" in second.stderr
    with SendLedger(ledger_path) as ledger:
        aiko = ledger.member("Aiko@Example.org")
    assert (aiko.status, aiko.name, aiko.language, dict(aiko.fields)) == ("subscribed", "Aiko", "ja", {"city": "Kyoto"})
    assert aiko.consent.method == "import" and aiko.consent.at and aiko.consent.network == ""


def test_import_updates_changed_rows_but_keeps_what_the_file_leaves_empty(digest, tmp_path, ledger_path):
    digest("members", "import", str(members_csv(tmp_path, "email,name,language\naiko@example.org,Aiko,ja\n")))
    changed = members_csv(tmp_path, "email,name,city\naiko@example.org,Aiko Tanaka,Kyoto\n", "changed.csv")
    result = digest("members", "import", str(changed))
    assert result.stdout.splitlines() == [f"{changed}:2: updated aiko@example.org (fields, name)",
                                          f"{changed}: 0 added, 1 updated, 0 skipped"]
    with SendLedger(ledger_path) as ledger:
        aiko = ledger.member("aiko@example.org")
    assert (aiko.name, aiko.language, dict(aiko.fields)) == ("Aiko Tanaka", "ja", {"city": "Kyoto"})


@pytest.mark.parametrize("how, status", [
    (("suppress", "add", "gone@example.org"), "unsubscribed"),
    (("members", "remove", "gone@example.org"), "unsubscribed"),
    (("bounces", "import", str(Path(__file__).parent / "fixtures" / "bounces" / "postmark.jsonl"), "--format", "postmark"),
     "bounced"),
])
def test_import_never_resubscribes_someone_who_left_or_bounced(digest, tmp_path, ledger_path, how, status):
    address = "hard@example.org" if how[0] == "bounces" else "gone@example.org"
    path = members_csv(tmp_path, f"email,name\n{address},Gone\nnew@example.org,New\n")
    digest("members", "import", str(path))
    digest(*how)
    result = digest("members", "import", str(path))
    assert f"{path}:2: skipped {address} ({status} since" in result.stderr
    assert "an import never resubscribes" in result.stderr
    assert statuses(ledger_path)[address] == status
    refused = digest("members", "add", address)
    assert refused.exit_code == 1 and "never resubscribes" in refused.output
    assert statuses(ledger_path)[address] == status


def test_export_round_trips_statuses_and_fields_into_a_new_store(digest, tmp_path, ledger_path):
    digest("members", "import", str(members_csv(tmp_path, "email,name,language,city\na@example.org,A,ja,Kyoto\n"
                                                           "b@example.org,B,en,\n")))
    digest("members", "remove", "b@example.org")
    exported = digest("members", "export")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["email"], r["status"], r["city"]) for r in rows] == [("a@example.org", "subscribed", "Kyoto"),
                                                                    ("b@example.org", "unsubscribed", "")]
    copy = members_csv(tmp_path, exported.stdout, "export.csv")
    other = tmp_path / "other.sqlite"
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "members", "import", str(copy)],
                                env={"DIGEST_LEDGER_PATH": str(other)})
    assert result.stdout.splitlines()[-1] == f"{copy}: 2 added, 0 updated, 0 skipped"
    assert statuses(other) == {"a@example.org": "subscribed", "b@example.org": "unsubscribed"}
    with SendLedger(other) as ledger:
        assert dict(ledger.member("a@example.org").fields) == {"city": "Kyoto"}, "our own columns are not custom fields"


def test_list_filters_by_status_and_the_cli_knows_every_status(digest, tmp_path):
    assert MEMBER_STATUSES == list(STATUSES)
    digest("members", "add", "a@example.org", "--name", "A", "--language", "ja")
    digest("members", "add", "b@example.org")
    digest("suppress", "add", "b@example.org")
    assert digest("members", "list").stdout.splitlines() == ["a@example.org\tsubscribed\tja\tA",
                                                             "b@example.org\tunsubscribed\t\t"]
    assert digest("members", "list", "--status", "unsubscribed").stdout.splitlines() == ["b@example.org\tunsubscribed\t\t"]


def test_the_store_accepts_only_the_five_statuses(ledger_path):
    with SendLedger(ledger_path) as ledger:
        with pytest.raises(LedgerError, match="CHECK constraint failed|violates check constraint"):
            ledger.db.execute("INSERT INTO members (email, address, status, status_at, created_at, updated_at) "
                              "VALUES ('x@example.org', 'x@example.org', 'deleted', '', '', '')")


def test_iter_subscribed_yields_members_with_language_and_fields_for_a_send(digest, tmp_path, ledger_path):
    digest("members", "import", str(members_csv(tmp_path, "email,name,language,city\nA@example.org,A,ja,Kyoto\n"
                                                           "b@example.org,B,en,\nc@example.org,C,,\n")))
    digest("members", "remove", "b@example.org")
    with SendLedger(ledger_path) as ledger:
        members = list(ledger.iter_subscribed(block=1))
    assert [(m.email, m.name, m.language, m.fields.get("city", "")) for m in members] == [
        ("A@example.org", "A", "ja", "Kyoto"), ("c@example.org", "C", "", "")]


def test_export_data_prints_profile_consent_and_sends_as_json(digest, ledger_path):
    digest("members", "add", "aiko@example.org", "--name", "Aiko", "--language", "ja")
    with SendLedger(ledger_path) as ledger:
        run = ledger.start_send("2015-10", "outbox")
        ledger.record_intent(run.id, [Intent("aiko@example.org", "<m1@example.org>")])
        ledger.record_outcomes(run.id, [Outcome("aiko@example.org", "sent", "p-1")])
    result = digest("members", "export-data", "Aiko@example.org")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["profile"] == {"address": "aiko@example.org", "name": "Aiko", "language": "ja", "fields": {}}
    assert data["status"]["status"] == "subscribed" and data["consent"]["method"] == "cli"
    assert [(s["issue"], s["state"], s["message_id"]) for s in data["sends"]] == [("2015-10", "sent", "<m1@example.org>")]
    unknown = digest("members", "export-data", "nobody@example.org")
    assert unknown.exit_code == 1 and unknown.output.strip() == "Error: nobody@example.org: nothing is held about this address"


def test_forget_erases_personal_data_keeps_a_salted_hash_and_blocks_mail_and_import(digest, tmp_path, ledger_path):
    path = members_csv(tmp_path, "email,name,city\naiko@example.org,Aiko,Kyoto\nben@example.org,Ben,Iloilo\n")
    digest("members", "import", str(path))
    sent = digest("send", str(SEED_ISSUE), "--yes")
    assert sent.exit_code == 0, sent.output
    with SendLedger(ledger_path) as ledger:
        run = ledger.send_run(SEED_ISSUE.name)
        ledger.record_outcomes(run.id, [Outcome("aiko@example.org", "failed", error="550 aiko@example.org unknown")])
    assert digest("members", "forget", "aiko@example.org", input="n\n").exit_code == 1, "asks first"
    result = digest("members", "forget", "AIKO@example.org", "--yes")
    assert result.stdout.strip() == "aiko@example.org: forgotten"
    with SendLedger(ledger_path) as ledger:
        dump = everything_in(ledger)
        assert ledger.is_suppressed("aiko@example.org") and ledger.counts(run.id) == {"failed": 1, "sent": 1}
        assert ledger.audience(run.id).members == 2, "the send's audience keeps its size"
    assert "aiko" not in dump.lower() and "kyoto" not in dump.lower(), "no trace of the address, the name or the fields"
    reimport = digest("members", "import", str(path))
    assert f"{path}:2: skipped aiko@example.org (asked to be forgotten" in reimport.stderr
    assert digest("members", "add", "aiko@example.org").exit_code == 1
    assert digest("suppress", "add", "aiko@example.org").stdout.strip() == "aiko@example.org: already suppressed"
    assert statuses(ledger_path) == {"ben@example.org": "subscribed"}
    assert json.loads(digest("members", "export-data", "aiko@example.org").stdout)["forgotten_at"]


def everything_in(ledger: SendLedger) -> str:
    """Every row of every table of the store, as text."""
    if ledger.db.dialect == "sqlite":
        return "\n".join(ledger.db.connection.iterdump())
    tables = [name for (name,) in ledger.db.execute("SELECT tablename FROM pg_catalog.pg_tables "
                                                    "WHERE schemaname = current_schema()")]
    return "\n".join(repr(row) for table in tables for row in ledger.db.execute(f"SELECT * FROM {table}"))


def test_forgotten_hashes_are_salted_per_store(tmp_path):
    digests = []
    for name in ("one.sqlite", "two.sqlite"):
        with SendLedger(tmp_path / name) as ledger:
            ledger.forget("aiko@example.org")
            digests.append(ledger.db.execute("SELECT hash FROM forgotten").fetchone()[0])
    assert digests[0] != digests[1]
    import hashlib
    assert hashlib.sha256(b"aiko@example.org").hexdigest() not in digests


OLD_SUPPRESSIONS = """
CREATE TABLE suppressions (email TEXT PRIMARY KEY, reason TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
INSERT INTO suppressions VALUES ('u@example.org', 'unsubscribe', 'web', '2026-01-01T00:00:00+00:00');
INSERT INTO suppressions VALUES ('b@example.org', 'bounce', 'postmark: hard', '2026-01-02T00:00:00+00:00');
INSERT INTO suppressions VALUES ('c@example.org', 'complaint', 'ses: complaint', '2026-01-03T00:00:00+00:00');
INSERT INTO suppressions VALUES ('m@example.org', 'manual', 'cli', '2026-01-04T00:00:00+00:00');
"""


def test_a_ledger_with_the_old_suppressions_table_is_migrated_to_statuses_on_first_open(digest, ledger_path):
    if not isinstance(ledger_path, Path):
        pytest.skip("only SQLite ledger files were made with the old suppressions table")
    old = sqlite3.connect(ledger_path)
    old.executescript(OLD_SUPPRESSIONS)
    old.close()
    listed = digest("suppress", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == ["u@example.org\tunsubscribe\tweb\t2026-01-01T00:00:00+00:00",
                                          "b@example.org\tbounce\tpostmark: hard\t2026-01-02T00:00:00+00:00",
                                          "c@example.org\tcomplaint\tses: complaint\t2026-01-03T00:00:00+00:00",
                                          "m@example.org\tmanual\tcli\t2026-01-04T00:00:00+00:00"]
    assert statuses(ledger_path) == {"b@example.org": "bounced", "c@example.org": "complained",
                                     "m@example.org": "unsubscribed", "u@example.org": "unsubscribed"}
    with SendLedger(ledger_path) as ledger:
        tables = {name for (name,) in ledger.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "suppressions" not in tables


@pytest.mark.parametrize("ip, network", [("203.0.113.77", "203.0.113.0/24"), ("2001:db8:1:2::9", "2001:db8:1::/48"),
                                         ("::ffff:198.51.100.3", "198.51.100.0/24"), ("not an ip", "")])
def test_consent_keeps_only_the_clients_network(ip, network):
    assert consent_network(ip) == network


@pytest.mark.parametrize("command", ["import", "export", "list", "add", "remove", "export-data", "forget"])
def test_every_members_subcommand_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, ["members", command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
