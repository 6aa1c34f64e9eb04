"""Appending to issue.toml keeps every comment and the array's own style, and refuses
rather than writes anything it cannot prove correct."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from digest.errors import ContentError
from digest.content.tomledit import append_items, toml_string, write_atomic

PATH = Path("issue.toml")

# (case, issue.toml text, section, text expected after appending "new.md")
EDITS = [
    ("multi-line-with-comments",
     '[[sections]]  # lead\ntitle = "A" # t\nitems = [\n    "a.md",  # first\n    "b.md" # no comma\n]\n', None,
     '[[sections]]  # lead\ntitle = "A" # t\nitems = [\n    "a.md",  # first\n    "b.md", # no comma\n    "new.md",\n]\n'),
    ("one-line", '[[sections]]\ntitle = "A"\nitems = ["a.md", "b.md"]  # keep\n', "A",
     '[[sections]]\ntitle = "A"\nitems = ["a.md", "b.md", "new.md"]  # keep\n'),
    ("one-line-trailing-comma", '[[sections]]\ntitle = "A"\nitems = ["a.md",]\n', "A",
     '[[sections]]\ntitle = "A"\nitems = ["a.md", "new.md",]\n'),
    ("empty", '[[sections]]\ntitle = "A"\nitems = []\n', "A", '[[sections]]\ntitle = "A"\nitems = ["new.md"]\n'),
    ("two-space-indent-close-on-last-line", '[[sections]]\ntitle = "A"\nitems = [\n  "a.md"]\n', "A",
     '[[sections]]\ntitle = "A"\nitems = [\n  "a.md",\n  "new.md",\n]\n'),
    ("brackets-and-hashes-in-strings", '[[sections]]\ntitle = "A ] # ["\nitems = [ "a]#.md", \'b.md\' ] # ]\n', None,
     '[[sections]]\ntitle = "A ] # ["\nitems = [ "a]#.md", \'b.md\', "new.md" ] # ]\n'),
    ("middle-section", '[[sections]]\ntitle = "A"\nitems = ["a.md"]\n\n[[sections]]\ntitle = "B"\nitems = ["b.md"]\n', "A",
     '[[sections]]\ntitle = "A"\nitems = ["a.md", "new.md"]\n\n[[sections]]\ntitle = "B"\nitems = ["b.md"]\n'),
    ("new-section", '[[sections]]\ntitle = "A"\nitems = ["a.md"]\n', 'Q&A "live"',
     '[[sections]]\ntitle = "A"\nitems = ["a.md"]\n\n[[sections]]\ntitle = "Q&A \\"live\\""\nitems = [\n    "new.md",\n]\n'),
]


@pytest.mark.parametrize("text,section,expected", [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_append_keeps_comments_and_style(text, section, expected):
    assert append_items(text, section, ["new.md"], PATH) == expected


def test_append_keeps_crlf_line_endings():
    text = '# notes\r\n[[sections]]\r\ntitle = "A"\r\nitems = [\r\n    "a.md",\r\n]\r\n'
    assert append_items(text, None, ["new.md"], PATH) == text.replace('"a.md",\r\n', '"a.md",\r\n    "new.md",\r\n')


@pytest.mark.parametrize("text,words", [
    ('sections = [{title = "A", items = ["a.md"]}]\n', "written as [[sections]] tables"),
    ('title = "x"\n', "has no [[sections]]"),
    ('[[sections]]\nitems = ["a.md"\n', "invalid TOML"),
], ids=["inline-sections", "no-sections", "broken-toml"])
def test_append_refuses_what_it_cannot_edit_safely(text, words):
    with pytest.raises(ContentError) as info:
        append_items(text, None, ["new.md"], PATH)
    assert words in str(info.value) and info.value.path == PATH


@pytest.mark.parametrize("value", ['plain', 'quote " and \\ backslash', "line\nbreak\ttab\x00nul\x7f", "日本語 ✓"])
def test_toml_string_round_trips_any_text(value):
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_write_atomic_replaces_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "issue.toml"
    target.write_text("old", encoding="utf-8")
    write_atomic(target, "new text\n")
    assert target.read_text(encoding="utf-8") == "new text\n"
    assert [p.name for p in tmp_path.iterdir()] == ["issue.toml"]
