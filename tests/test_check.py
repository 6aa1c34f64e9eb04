"""`digest check` names the file and line of every mistake an editor can make."""
from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from digest.checks.preflight import check_issue
from digest.cli import cli
from digest.content import load_issue
from digest.errors import ContentError

from .conftest import MINIMAL_ISSUE_TOML, MINIMAL_ITEM, REPO, SEED_ISSUE

ITEM_HEAD = "+++\ntitle = \"Item one\"\n"

# (case id, files to write over the minimal valid issue, file named, line, words in message)
BROKEN_ISSUES = [
    ("issue-toml-missing", {"issue.toml": None}, "issue.toml", None, "file not found"),
    ("issue-toml-syntax", {"issue.toml": 'title = "x"\ndate = 2026-01-31\nsubject = "s\n'}, "issue.toml", 3, "invalid TOML"),
    ("missing-subject", {"issue.toml": MINIMAL_ISSUE_TOML.replace('subject = "Test subject"\n', "")}, "issue.toml", 1, "missing required key 'subject'"),
    ("unknown-issue-key", {"issue.toml": MINIMAL_ISSUE_TOML.replace("preheader", "preheadr")}, "issue.toml", 4, "unknown key 'preheadr'"),
    ("bad-date", {"issue.toml": MINIMAL_ISSUE_TOML.replace("2026-01-31", '"last tuesday"')}, "issue.toml", 2, "date must be a date"),
    ("listed-item-missing", {"issue.toml": MINIMAL_ISSUE_TOML.replace('"one.md"', '"one.md", "two.md"')}, "issue.toml", 8, "'two.md' is listed but"),
    ("item-listed-twice", {"issue.toml": MINIMAL_ISSUE_TOML.replace('"one.md"', '"one.md", "one.md"')}, "issue.toml", 8, "listed twice"),
    ("item-name-escapes-folder", {"issue.toml": MINIMAL_ISSUE_TOML.replace('"one.md"', '"../one.md"')}, "issue.toml", 8, "must be a file name in this folder"),
    ("section-without-items", {"issue.toml": MINIMAL_ISSUE_TOML.replace('["one.md"]', "[]"), "one.md": None}, "issue.toml", 6, "lists no items"),
    ("sections-not-tables", {"issue.toml": 'title = "t"\ndate = 2026-01-31\nsubject = "s"\nsections = "all"\n'}, "issue.toml", 4, "array of tables"),
    ("no-front-matter", {"one.md": "title = \"x\"\nBody\n"}, "one.md", 1, "must start with a +++"),
    ("front-matter-unclosed", {"one.md": "+++\ntitle = \"x\"\nBody\n"}, "one.md", 1, "never closed"),
    ("front-matter-syntax", {"one.md": '+++\ntitle = "x"\nlink = https://example.org\n+++\nBody\n'}, "one.md", 3, "invalid TOML"),
    ("item-title-missing", {"one.md": '+++\nlink = "https://example.org"\n+++\nBody\n'}, "one.md", 1, "missing required key 'title'"),
    ("item-unknown-key", {"one.md": ITEM_HEAD + 'summary = "x"\n+++\nBody\n'}, "one.md", 3, "unknown key 'summary'"),
    ("item-tags-not-strings", {"one.md": ITEM_HEAD + "tags = [1, 2]\n+++\nBody\n"}, "one.md", 3, "tags must be a list of strings"),
    ("item-draft-not-boolean", {"one.md": ITEM_HEAD + 'draft = "yes"\n+++\nBody\n'}, "one.md", 3, "draft must be a boolean"),
    ("item-not-utf8", {"one.md": b"+++\ntitle = \"caf\xe9\"\n+++\nBody\n"}, "one.md", 2, "not valid UTF-8"),
    ("image-without-alt", {"one.md": ITEM_HEAD + 'image = "https://example.org/a.png"\n+++\nBody\n'}, "one.md", 3, "no image_alt"),
    ("relative-link", {"one.md": ITEM_HEAD + 'link = "/news/one"\n+++\nBody\n'}, "one.md", 3, "absolute http(s) URL"),
    ("relative-image", {"one.md": ITEM_HEAD + 'image = "img/a.png"\nimage_alt = "A"\n+++\nBody\n'}, "one.md", 3, "image must be an absolute URL"),
    ("issue-date-impossible", {"issue.toml": MINIMAL_ISSUE_TOML.replace("2026-01-31", "2026-13-01")}, "issue.toml", 2,
     "invalid TOML: date = 2026-13-01 is not a date: month must be in 1..12; write YYYY-MM-DD"),
    ("item-date-one-digit-month", {"one.md": ITEM_HEAD + "date = 2026-1-5\n+++\nBody\n"}, "one.md", 3,
     "write the month and the day with two digits, 2026-01-05"),
    ("issue-unclosed-quote", {"issue.toml": MINIMAL_ISSUE_TOML.replace('"Test subject"', '"Test subject')}, "issue.toml", 3,
     'the text of subject has no closing ": add it at the end of the line'),
    ("item-unquoted-link", {"one.md": ITEM_HEAD + "link = https://example.org/one\n+++\nBody\n"}, "one.md", 3,
     'text must be quoted: link = "https://example.org/one"'),
    ("item-key-twice", {"one.md": ITEM_HEAD + 'title = "Again"\n+++\nBody\n'}, "one.md", 3, "title is set twice (first on line 2): keep one"),
    ("issue-colon-for-equals", {"issue.toml": MINIMAL_ISSUE_TOML.replace("subject = ", "subject: ")}, "issue.toml", 3,
     "write key = value (TOML uses '=', not ':')"),
    ("item-listed-twice-on-its-own-line", {"issue.toml": MINIMAL_ISSUE_TOML.replace('["one.md"]', '[\n    "one.md",\n    "one.md",\n]')},
     "issue.toml", 10, "listed twice (first on line 9)"),
]


@pytest.mark.parametrize("files,filename,line,words", [c[1:] for c in BROKEN_ISSUES], ids=[c[0] for c in BROKEN_ISSUES])
def test_check_names_file_and_line_of_each_mistake(make_issue, settings, files, filename, line, words):
    folder = make_issue(files)
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 1, result.output
    where = f"{folder / filename}:{line}:" if line else f"{folder / filename}:"
    matching = [l for l in result.output.splitlines() if l.startswith(where) and words in l]
    assert matching, f"expected a line starting {where!r} containing {words!r}, got:\n{result.output}"
    assert "Traceback" not in result.output


def test_corpus_covers_at_least_twelve_distinct_mistakes():
    assert len({case[0] for case in BROKEN_ISSUES}) >= 12


def test_valid_minimal_issue_checks_clean(make_issue, settings):
    assert check_issue(make_issue(), settings) == []


def test_seed_issue_checks_clean(settings):
    assert [f for f in check_issue(SEED_ISSUE, settings) if f.severity == "error"] == []


def test_warnings_alone_exit_zero(make_issue):
    folder = make_issue({"issue.toml": MINIMAL_ISSUE_TOML.replace('preheader = "Preheader"\n', "")})
    result = CliRunner().invoke(cli, ["check", str(folder)])
    assert result.exit_code == 0
    assert "warning: no preheader" in result.output


def test_check_reports_every_error_not_just_the_first(make_issue, settings):
    folder = make_issue({
        "issue.toml": MINIMAL_ISSUE_TOML.replace('"one.md"', '"one.md", "two.md"'),
        "one.md": ITEM_HEAD + 'summary = "x"\n+++\nBody\n',
    })
    errors = [f for f in check_issue(folder, settings) if f.severity == "error"]
    assert {f.path.name for f in errors} == {"issue.toml", "one.md"}


def test_oversized_issue_is_an_error_naming_the_limit(make_issue, settings):
    huge_body = " ".join(["word"] * 30000)
    folder = make_issue({"one.md": MINIMAL_ITEM.replace("Body of item one.", huge_body)})
    findings = check_issue(folder, settings)
    assert any(f.severity == "error" and "clipping limit" in f.message for f in findings)


def test_loader_raises_content_error_with_path_and_line(make_issue):
    folder = make_issue({"one.md": ITEM_HEAD + 'summary = "x"\n+++\nBody\n'})
    with pytest.raises(ContentError) as info:
        load_issue(folder)
    assert info.value.path == folder / "one.md" and info.value.line == 3


def test_build_of_broken_issue_is_one_line_on_stderr_and_exit_1(make_issue, tmp_path):
    folder = make_issue({"one.md": "+++\ntitle = \"x\"\nBody\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "digest.cli", "build", str(folder), "--out", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"Error: {folder / 'one.md'}:1: front matter opened on line 1 is never closed with +++"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("broken", ["+++\ntitle = \"x\ndate = 2026-13-01\n+++\nBody\n", "+++\ntitle = \"x\"\nBody\n"])
def test_a_listed_item_that_fails_to_load_is_not_also_called_unlisted(make_issue, settings, broken):
    findings = check_issue(make_issue({"one.md": broken}), settings)
    assert [f.severity for f in findings] == ["error"]
    assert not any("not listed" in f.message for f in findings)
