"""Appending to issue.toml keeps every comment and the array's own style, and refuses
rather than writes anything it cannot prove correct."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from digest.errors import ContentError
from digest.content.tomledit import append_items, insert_items, remove_item, remove_key, retitle_section, toml_string, write_atomic
from digest.content.tomlerrors import explain

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


# (case, issue.toml text, name to remove from the first section, text expected)
REMOVALS = [
    ("own-line-with-comment", '[[sections]]\ntitle = "A"\nitems = [\n    "a.md",  # lead\n    "b.md",\n]\n', "a.md",
     '[[sections]]\ntitle = "A"\nitems = [\n    "b.md",\n]\n'),
    ("last-without-comma", '[[sections]]\ntitle = "A"\nitems = [\n    "a.md",\n    "b.md"\n]\n', "b.md",
     '[[sections]]\ntitle = "A"\nitems = [\n    "a.md",\n]\n'),
    ("one-line-first", '[[sections]]\ntitle = "A"\nitems = ["a.md", "b.md", "c.md"]  # keep\n', "a.md",
     '[[sections]]\ntitle = "A"\nitems = ["b.md", "c.md"]  # keep\n'),
    ("one-line-last", '[[sections]]\ntitle = "A"\nitems = ["a.md", "b.md"]\n', "b.md", '[[sections]]\ntitle = "A"\nitems = ["a.md"]\n'),
    ("one-line-only", '[[sections]]\ntitle = "A"\nitems = ["a.md",]\n', "a.md", '[[sections]]\ntitle = "A"\nitems = []\n'),
    ("close-on-last-line", '[[sections]]\ntitle = "A"\nitems = [\n  "a.md",\n  "b.md"]\n', "b.md",
     '[[sections]]\ntitle = "A"\nitems = [\n  "a.md"]\n'),
]


@pytest.mark.parametrize("text,name,expected", [c[1:] for c in REMOVALS], ids=[c[0] for c in REMOVALS])
def test_remove_takes_out_exactly_one_name_in_the_array_s_own_style(text, name, expected):
    assert remove_item(text, 0, name, PATH) == expected


def test_remove_refuses_rather_than_drop_a_comment_it_does_not_own():
    text = '[[sections]]\ntitle = "A"\nitems = ["a.md", # why\n  "b.md"]\n'
    with pytest.raises(ContentError, match="edit issue.toml by hand"):
        remove_item(text, 0, "b.md", PATH)


@pytest.mark.parametrize("text,position,expected", [
    ('[[sections]]\nitems = [\n    "a.md",\n    "b.md",\n]\n', 0, '[[sections]]\nitems = [\n    "new.md",  # moved\n    "a.md",\n    "b.md",\n]\n'),
    ('[[sections]]\nitems = [\n    "a.md",\n    "b.md",\n]\n', 1, '[[sections]]\nitems = [\n    "a.md",\n    "new.md",  # moved\n    "b.md",\n]\n'),
    ('[[sections]]\nitems = ["a.md", "b.md"]\n', 1, '[[sections]]\n# new.md: moved\nitems = ["a.md", "new.md", "b.md"]\n'),
    ('[[sections]]\nitems = ["a.md"]\n', None, '[[sections]]\n# new.md: moved\nitems = ["a.md", "new.md"]\n'),
], ids=["multi-line-first", "multi-line-middle", "one-line-middle", "one-line-end"])
def test_insert_at_a_position_carries_the_item_s_comment_along(text, position, expected):
    assert insert_items(text, 0, ["new.md"], position, PATH, {"new.md": "# moved"}) == expected


def test_retitle_keeps_the_rest_of_the_title_line():
    text = "[[sections]]\ntitle = 'Old'   # why\nitems = []\n"
    assert retitle_section(text, 0, "New", PATH) == '[[sections]]\ntitle = "New"   # why\nitems = []\n'


def test_remove_key_drops_one_line_only():
    front = 'title = "x"\n# a note\ndraft = true  # from a feed\nlink = "https://example.org"\n'
    assert remove_key(front, "draft", PATH) == 'title = "x"\n# a note\nlink = "https://example.org"\n'


# (TOML text, words the explanation must contain, line)
MISTAKES = [
    ("draft = True", "draft = True: write true or false, in lower case", 1),
    ("title = \u201cNews\u201d", 'use straight quotes, title = "News"', 1),
    ('title = "a"\nitems = ["a.md",\n', "the list items is never closed: add ] after its last value", 2),
    ("[[sections]]\ntitle = 'A'\n[sections]\n", "write every section as [[sections]], with two brackets", 3),
    ("title = 'it's'", "put the text in double quotes", 1),
    ('title = "C:\\new\\q"', "a backslash in \"...\" starts an escape", 1),
    ("subject =\n", "subject has no value after '='", 1),
    ('tags = [news, events]', 'each text in the list tags must be quoted, e.g. ["a", "b"]', 1),
]


@pytest.mark.parametrize("text,words,line", MISTAKES, ids=[m[1].split(":")[0][:30] for m in MISTAKES])
def test_common_toml_mistakes_are_explained_in_plain_words(text, words, line):
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    message, where = explain(info.value, text)
    assert message.startswith("invalid TOML: ") and words in message and where == line


def test_a_comment_moved_into_a_one_line_array_goes_on_a_line_above_it():
    text = '[[sections]]\ntitle = "A"\nitems = ["a.md"]  # keep\n'
    assert insert_items(text, 0, ["new.md"], 0, PATH, {"new.md": "# the lead"}) == (
        '[[sections]]\ntitle = "A"\n# new.md: the lead\nitems = ["new.md", "a.md"]  # keep\n')
