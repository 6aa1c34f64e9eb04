"""``digest send`` from the members store by default, and from a members file for a
one-off send, always minus the store's suppressions and forgotten addresses."""
from __future__ import annotations

from click.testing import CliRunner

from digest.cli import cli
from digest.store.ledger import SendLedger

from .conftest import REPO, SEED_ISSUE


def digest(tmp_path, *args: str):
    env = {"DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"), "DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"),
           "DIGEST_UNSUBSCRIBE_SECRET": "test-secret"}
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=env)


def sent_to(tmp_path) -> list[str]:
    folder = tmp_path / "outbox" / SEED_ISSUE.name
    return sorted(p.stem for p in folder.glob("*.eml")) if folder.is_dir() else []


def test_send_without_members_goes_to_the_stores_subscribed_members_only(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text("email,name,language\na@example.org,A,ja\nb@example.org,B,en\nc@example.org,C,en\n", encoding="utf-8")
    digest(tmp_path, "members", "import", str(members))
    digest(tmp_path, "members", "remove", "b@example.org")
    with SendLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.request_confirmation("pending@example.org", "P", "en", interval=3600, lifetime=3600)
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--yes")
    assert result.exit_code == 0, result.output
    assert "2 member(s) to send" in result.output and "member(s) from the members store" in result.output
    assert sent_to(tmp_path) == ["a@example.org", "c@example.org"]
    digest(tmp_path, "members", "add", "d@example.org")
    dry = digest(tmp_path, "send", str(SEED_ISSUE), "--dry-run")
    assert "1 member(s) to send, 2 already done" in dry.output and "(members: the members store)" in dry.output
    again = digest(tmp_path, "send", str(SEED_ISSUE), "--yes")
    assert again.exit_code == 0, again.output
    assert sent_to(tmp_path) == ["a@example.org", "c@example.org", "d@example.org"], "a member added later gets it once"


def test_a_one_off_send_to_a_file_skips_the_stores_unsubscribes_and_forgotten_addresses(tmp_path):
    digest(tmp_path, "members", "add", "gone@example.org")
    digest(tmp_path, "members", "remove", "gone@example.org")
    digest(tmp_path, "members", "forget", "erased@example.org", "--yes")
    members = tmp_path / "one-off.csv"
    members.write_text("email\ngone@example.org\nerased@example.org\nnew@example.org\n", encoding="utf-8")
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--members", str(members), "--yes")
    assert result.exit_code == 0, result.output
    assert f"{members}:2: gone@example.org: suppressed" in result.stderr
    assert f"{members}:3: erased@example.org: suppressed" in result.stderr
    assert sent_to(tmp_path) == ["new@example.org"]


def test_send_with_an_empty_store_says_how_to_add_members(tmp_path):
    result = digest(tmp_path, "send", str(SEED_ISSUE), "--yes")
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: the members store has no subscribed members: add them with "
                                     "`digest members import FILE` (or the sign-up page), or send to a file with --members FILE")
