"""A hostile members file, sent through a real SMTP server: every valid member mailed
exactly once, every row that cannot be mailed reported with its line, and no row stops
the send. Addresses use IDNA 2008 with UTS 46 (never mapped to another domain); names
with control characters are cleaned or refused, never put raw into a header."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from digest.addresses import clean_display_name, normalise_address
from digest.cli import cli
from digest.errors import HeaderError
from digest.members.file import Member, SkippedMember, iter_members
from digest.store.ledger import SendLedger

from .conftest import REPO, SEED_ISSUE

# (raw CSV row, expected: the address mailed and its To display name, or the skip reason's words)
CORPUS = [
    (b"plain@example.org,Plain Member", ("plain@example.org", "Plain Member")),
    (b"nul@example.org,B\x00C", "control character U+0000"),
    (b"vt@example.org,Vertical\x0bTab", ("vt@example.org", "Vertical Tab")),
    (b"ff@example.org,Form\x0cFeed", ("ff@example.org", "Form Feed")),
    (b'crlf@example.org,"Two\r\nLines"', "control character U+000D"),
    (b"ls@example.org,Line\xe2\x80\xa8Separator", ("ls@example.org", "Line Separator")),
    (b"bell@example.org,Ring\x07", "control character U+0007"),
    (b"encoded@example.org,=?utf-8?q?Evil=0D=0ABcc=3A_x@evil.example?=", "decodes to the control character U+000D"),
    (b"Case@Example.org,First", ("Case@example.org", "First")),
    (b"CASE@example.ORG,Second", "duplicate of line"),
    (b"x@stra\xc3\x9fe.de,Strasse", ("x@xn--strae-oqa.de", "Strasse")),
    (b"y@\xe4\xbe\x8b\xe3\x81\x88.jp,Rei", ("y@xn--r8jz45g.jp", "Rei")),
    (b"z@ex\xe2\x80\x8dample.org,Joiner", "IDNA 2008"),
    (b"not-an-address,Nobody", "not an email address"),
    (b"bad-bytes@example.org,Caf\xe9", "not valid UTF-8"),
    (b"long@example.org,Long," + b"x" * 3000, "longer than 2,000 characters"),
    (b"\xe7\x94\xb0\xe4\xb8\xad@example.org,Local", "local part must be plain ASCII"),
    (b"last@example.org,\xe7\x94\xb0\xe4\xb8\xad \xe6\x84\x9b\xe5\xad\x90", ("last@example.org", "田中 愛子")),
]


def corpus_file(tmp_path):
    """The corpus as a members file with a BOM; returns (path, {line: expectation})."""
    lines, expected, line = [b"\xef\xbb\xbfemail,name,city"], {}, 2
    for row, expectation in CORPUS:
        lines.append(row)
        expected[line] = expectation
        line += row.count(b"\n") + 1
    path = tmp_path / "members.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, expected


def test_every_valid_member_is_mailed_once_and_every_other_row_reported_with_its_line(tmp_path, smtp_sink):
    handler, port = smtp_sink
    path, expected = corpus_file(tmp_path)
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
           "DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
           "DIGEST_SMTP_SECURITY": "none", "DIGEST_UNSUBSCRIBE_SECRET": "s", "DIGEST_SENDING_BATCH_SIZE": "3"}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--members",
                                      str(path), "--yes", "--skip-doctor"], env=env)
    assert result.exit_code == 0, result.output
    mailed = {e[0]: e[1] for e in expected.values() if isinstance(e, tuple)}
    assert handler.recipients() == {address: 1 for address in mailed}
    for received in handler.received:
        to = received.parsed()["To"]
        assert to.addresses[0].display_name == mailed[received.recipient]
        assert "\r" not in str(to) and "\x0b" not in received.raw.decode("ascii")
    with SendLedger(tmp_path / "ledger.sqlite") as ledger:
        skipped = {row.line: row.reason for row in ledger.skipped_rows(ledger.send_run("2015-10").id, limit=100)}
    assert set(skipped) == {line for line, e in expected.items() if isinstance(e, str)}
    for line, words in expected.items():
        if isinstance(words, str):
            assert words in skipped[line], (line, skipped[line])
    first = min(skipped)
    assert f"{path}:{first}: nul@example.org: name contains the control character U+0000" in result.stderr


@pytest.mark.parametrize(("domain", "encoded"), [
    ("straße.de", "xn--strae-oqa.de"),      # IDNA 2003 would give strasse.de, another domain
    ("例え.jp", "xn--r8jz45g.jp"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("EXAMPLE.org", "example.org"),
])
def test_international_domains_are_encoded_as_themselves(domain, encoded):
    assert normalise_address(f"x@{domain}") == f"x@{encoded}"


@pytest.mark.parametrize("domain", ["ex\u200dample.org", "xn--a.de", "a..b.org", "-lead.org"])
def test_domains_idna_2008_cannot_encode_are_refused_not_rewritten(domain):
    with pytest.raises(HeaderError, match="not an email address"):
        normalise_address(f"x@{domain}")


@pytest.mark.parametrize(("name", "cleaned"), [
    ("Aiko\tTanaka", "Aiko Tanaka"), ("Form\x0cFeed", "Form Feed"), ("  Spaces   inside ", "Spaces inside"),
    ("Smith, John", "Smith, John"), ("=?utf-8?q?Bob?=", "=?utf-8?q?Bob?="),
])
def test_names_with_white_space_controls_are_cleaned(name, cleaned):
    assert clean_display_name(name) == cleaned


@pytest.mark.parametrize("name", ["A\x00B", "A\rB", "A\nB", "A\x1bB", "=?utf-8?b?AAAA?=", "=?x-nope?q?Bob?=", "x" * 201])
def test_names_that_cannot_be_cleaned_are_refused(name):
    with pytest.raises(HeaderError):
        clean_display_name(name)


def test_a_row_that_is_not_csv_is_skipped_and_reading_goes_on(tmp_path):
    import csv

    path = tmp_path / "members.csv"
    path.write_bytes(b"email,name\na@example.org,A\nb@example.org," + b"y" * (csv.field_size_limit() + 1) + b"\nc@example.org,C\n")
    rows = list(iter_members(path))
    assert [(r.line, type(r).__name__) for r in rows] == [(2, "Member"), (3, "SkippedMember"), (4, "Member")]
    assert isinstance(rows[1], SkippedMember) and "not valid CSV" in rows[1].reason
    assert isinstance(rows[2], Member) and rows[2].email == "c@example.org"
