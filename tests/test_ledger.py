"""The ledger on both engines: where a URL points, schema versions and the upgrade of
a ledger made before them, and the same semantics on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli
from digest.config import load_settings
from digest.errors import ConfigError, LedgerError
from digest.store.engines import describe, ledger_target
from digest.store.ledger import Intent, Outcome, SendLedger
from digest.store.migrations import latest

from .conftest import REPO, ledger_env

# Ledgers made by earlier code, kept as SQL dumps (`sqlite3 FILE .dump`) so they are
# reviewable text, not binary ledgers in git; ``restore`` makes the file again.
LEGACY = REPO / "tests" / "fixtures" / "ledger-before-migrations.sql"
# Made by the code of the send-trust merge: its tables (audiences, leases, deliveries.language), no versions.
LEGACY_SEND_TRUST = REPO / "tests" / "fixtures" / "ledger-before-migrations-send-trust.sql"
# That file opened by the code of the members merge: suppressions moved into members, no versions.
LEGACY_MEMBERS = REPO / "tests" / "fixtures" / "ledger-before-migrations-members.sql"


def restore(dump: Path, target: Path) -> Path:
    """The ledger file ``dump`` was made from, written at ``target``."""
    with sqlite3.connect(target) as connection:
        connection.executescript(dump.read_text(encoding="utf-8"))
    connection.close()
    return target


def versions(ledger: SendLedger) -> list[int]:
    return [row[0] for row in ledger.db.execute("SELECT version FROM schema_version ORDER BY version")]


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:///state/ledger.sqlite", "{root}/state/ledger.sqlite"),
    ("sqlite:////var/lib/digest/ledger.sqlite", "/var/lib/digest/ledger.sqlite"),
    ("postgresql://digest@db.example.org/news", "postgresql://digest@db.example.org/news"),
    ("postgres://digest@db.example.org/news", "postgres://digest@db.example.org/news"),
])
def test_ledger_url_forms(tmp_path, url, expected):
    config = tmp_path / "config.toml"
    config.write_text("")
    target = ledger_target(load_settings(config, environ={"DIGEST_LEDGER_URL": url}))
    assert str(target) == expected.format(root=tmp_path.resolve())


def test_without_a_url_the_ledger_path_stays_the_default(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("")
    assert ledger_target(load_settings(config, environ={})) == (tmp_path / ".digest" / "ledger.sqlite").resolve()


@pytest.mark.parametrize("url", ["mysql://x@y/z", "sqlite://", "sqlite:///", "ledger.sqlite"])
def test_a_url_of_no_known_engine_is_a_config_error(tmp_path, url):
    with pytest.raises(ConfigError, match=r"\[ledger\] url"):
        ledger_target(load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_URL": url}))


def test_a_password_in_the_url_is_never_shown():
    assert describe("postgresql://digest:s3cret@db.example.org:5432/news") == "postgresql://digest:***@db.example.org:5432/news"


def test_a_ledger_made_before_schema_versions_is_upgraded_when_opened(tmp_path):
    legacy = tmp_path / "ledger.sqlite"
    restore(LEGACY, legacy)
    with SendLedger(legacy) as ledger:
        assert versions(ledger) == list(range(1, latest("sqlite") + 1))
        assert {s.email: s.reason for s in ledger.suppressions()} == {"gone@example.org": "unsubscribe",
                                                                      "bounced@example.org": "bounce"}
        assert ledger.soft_bounces_in_a_row("soft@example.org") == 2
        run = ledger.send_run("2015-10")
        assert (run.backend, run.runs) == ("outbox", 1)
        assert ledger.counts(run.id) == {"sent": 1, "failed": 1, "deferred": 1, "sending": 1}
        assert ledger.db.column_exists("deliveries", "language"), "0002 added the language column"
        assert ledger.in_flight(run.id) == [("d@example.org", "<d@digest>")]
        assert ledger.start_send("2015-10", "smtp").runs == 2  # resumes the old run in place
    with SendLedger(legacy) as again:
        assert versions(again) == list(range(1, latest("sqlite") + 1)), "migrated once"


def test_a_ledger_made_with_the_send_trust_tables_but_no_versions_is_adopted_as_version_2(tmp_path):
    legacy = tmp_path / "ledger.sqlite"
    restore(LEGACY_SEND_TRUST, legacy)
    with SendLedger(legacy) as ledger:
        assert versions(ledger) == list(range(1, latest("sqlite") + 1))
        adopted = [row[0] for row in ledger.db.execute("SELECT applied_at FROM schema_version WHERE version <= 2")]
        assert all(stamp.startswith("adopted ") for stamp in adopted), "0001 and 0002 were not run on it"
        run = ledger.send_run("2015-10")
        assert ledger.audience(run.id).members == 3 and ledger.skipped_counts(run.id) == {"invalid": 1}
        assert [(r.email, r.language, r.state) for r in ledger.audience_block(run.id, 0)] == [
            ("a@example.org", "en", "sent"), ("b@example.org", "ja", "sending"), ("c@example.org", "en", "")]
        assert ledger.db.table_exists("batches") and ledger.is_suppressed("gone@example.org")


def test_a_ledger_made_with_the_members_store_but_no_versions_is_adopted_as_version_4(tmp_path):
    legacy = tmp_path / "ledger.sqlite"
    restore(LEGACY_MEMBERS, legacy)
    with SendLedger(legacy) as ledger:
        assert versions(ledger) == list(range(1, latest("sqlite") + 1))
        stamps = dict(ledger.db.execute("SELECT version, applied_at FROM schema_version").fetchall())
        assert all(stamps[v].startswith("adopted ") for v in (1, 2, 4)) and not stamps[3].startswith("adopted ")
        assert {s.email: s.reason for s in ledger.suppressions()} == {"gone@example.org": "unsubscribe",
                                                                      "bounced@example.org": "bounce"}
        assert ledger.audience(ledger.send_run("2015-10").id).members == 3 and ledger.db.table_exists("batches")


def test_a_ledger_from_a_newer_digest_is_refused(ledger_target):
    with SendLedger(ledger_target) as ledger:
        ledger.db.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 'now')")
    with pytest.raises(LedgerError, match="made by a newer digest .schema 999"):
        SendLedger(ledger_target)


def test_processes_opening_a_new_ledger_together_migrate_it_once(ledger_target):
    errors: list[BaseException] = []

    def open_it():
        try:
            SendLedger(ledger_target).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with SendLedger(ledger_target) as ledger:
        assert versions(ledger) == list(range(1, latest(ledger.db.dialect) + 1))


def test_send_and_suppression_semantics_are_the_same_on_both_engines(ledger_target):
    with SendLedger(ledger_target) as ledger:
        assert ledger.suppress(" Someone@Example.org ", "manual") is True
        assert ledger.suppress("someone@example.org", "bounce") is False
        assert ledger.suppressed_among(["SOMEONE@example.org", "other@example.org"]) == {"someone@example.org"}
        assert [ledger.count_soft_bounce("s@example.org") for _ in range(3)] == [1, 2, 3]
        ledger.reset_soft_bounces("s@example.org")
        assert ledger.soft_bounces_in_a_row("s@example.org") == 0
        run = ledger.start_send("2026-01", "outbox")
        assert ledger.start_send("2026-01", "smtp").runs == 2
        ledger.record_intent(run.id, [Intent("B@example.org", "<b@x>"), Intent("a@example.org", "<a@x>"),
                                      Intent("c@example.org", "<c@x>", "ja")])
        ledger.record_intent(run.id, [Intent("c@example.org", "<c@x>", "ja")])
        ledger.record_outcomes(run.id, [Outcome("b@example.org", "sent", "p1"), Outcome("c@example.org", "failed", "", "550")])
        assert ledger.in_flight(run.id) == [("a@example.org", "<a@x>")]
        assert ledger.counts(run.id) == {"sent": 1, "failed": 1, "sending": 1}
        assert ledger.deliveries_among(run.id, ["A@example.org", "zz@example.org"]) == {"a@example.org": ("sending", "<a@x>")}
        assert [(d.email, d.attempts) for d in ledger.unfinished(run.id)] == [("c@example.org", 2), ("a@example.org", 1)]
        ledger.finish_send(run.id, complete=True)
        assert ledger.send_run("2026-01").completed_at is not None
        with pytest.raises(RuntimeError):
            with ledger.transaction():
                ledger.suppress("rolled-back@example.org", "manual")
                raise RuntimeError("abort")
        assert not ledger.is_suppressed("rolled-back@example.org")


def test_an_unreachable_server_is_a_one_line_ledger_error(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "suppress", "list"],
                                env={"DIGEST_LEDGER_URL": "postgresql://digest:s3cret@127.0.0.1:1/news"})
    assert result.exit_code == 1
    assert result.output.startswith("Error: postgresql://digest:***@127.0.0.1:1/news: cannot open the ledger (")
    assert len(result.output.strip().splitlines()) == 1 and "s3cret" not in result.output


def test_a_database_that_does_not_exist_is_a_one_line_ledger_error(postgres_url):
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database_for_digest"
    with pytest.raises(LedgerError, match="no_such_database_for_digest"):
        SendLedger(missing)


def test_a_file_that_is_not_a_ledger_is_a_one_line_ledger_error(tmp_path):
    bogus = tmp_path / "ledger.sqlite"
    bogus.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="ledger.sqlite"):
        SendLedger(bogus)


def test_suppressions_made_on_one_machine_are_seen_by_the_cli_on_another(ledger_target):
    env = ledger_env(ledger_target)
    runner = CliRunner()
    added = runner.invoke(cli, ["--config", str(REPO / "config.toml"), "suppress", "add", "gone@example.org"], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["--config", str(REPO / "config.toml"), "suppress", "list"], env=env)
    assert "gone@example.org\tmanual" in listed.output


def test_the_legacy_fixture_really_has_no_schema_version(tmp_path):
    with sqlite3.connect(restore(LEGACY, tmp_path / "legacy.sqlite")) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"suppressions", "soft_bounces", "sends", "deliveries"}


def test_a_ledger_at_an_older_version_gets_only_the_later_migrations(ledger_target):
    from digest.store.engines import open_engine
    from digest.store.migrations import VERSION_TABLE, migrations

    with open_engine(ledger_target) as engine:
        first = migrations(engine.dialect)[0]
        with engine.transaction():
            engine.script(first.text())
            engine.execute(VERSION_TABLE)
            engine.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (1, ?, 'then')", (first.name,))
            engine.execute("INSERT INTO suppressions (email, reason, created_at) VALUES ('kept@example.org', 'manual', 'then')")
        assert not engine.table_exists("batches")
    with SendLedger(ledger_target) as ledger:
        assert versions(ledger) == list(range(1, latest(ledger.db.dialect) + 1))
        assert ledger.db.table_exists("batches") and ledger.is_suppressed("kept@example.org")
        applied = ledger.db.execute("SELECT applied_at FROM schema_version WHERE version = 1").fetchone()[0]
        assert applied == "then", "version 1 was not applied again"
