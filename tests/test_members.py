"""The members file is streamed; bad rows are skipped with their line, bad files stop."""
from __future__ import annotations

import pytest

from digest.errors import ContentError
from digest.members.file import Member, SkippedMember, find_member, iter_members, without_duplicates

from .conftest import REPO


def write(tmp_path, text: str | bytes, name="members.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_members_with_bom_extra_columns_and_tags_are_read(tmp_path):
    path = write(tmp_path, "\ufeffEmail,Name,tags,city\nA@Example.org,Aiko,\"a, b\",Kyoto\n")
    [member] = list(iter_members(path))
    assert member == Member("A@example.org", "Aiko", "", ("a", "b"), line=2)
    assert member.fields["city"] == "Kyoto"


def test_invalid_and_duplicate_addresses_are_skipped_with_line_numbers(tmp_path):
    path = write(tmp_path, "email\na@example.org\nnot-an-address\nA@EXAMPLE.org\nb@example.org\n")
    rows = list(without_duplicates(iter_members(path)))
    skipped = [(r.line, r.reason.split(" (")[0].split(":")[0]) for r in rows if isinstance(r, SkippedMember)]
    assert skipped == [(3, "not an email address"), (4, "duplicate of line 2")]
    assert [r.email for r in rows if isinstance(r, Member)] == ["a@example.org", "b@example.org"]


@pytest.mark.parametrize("content,words", [
    ("name\nAiko\n", "no 'email' column"),
    (b"em\xffail\na@example.org\n", "not valid UTF-8"),
])
def test_unusable_members_file_stops_with_file_named(tmp_path, content, words):
    path = write(tmp_path, content)
    with pytest.raises(ContentError) as info:
        list(iter_members(path))
    assert words in str(info.value) and str(path) in str(info.value)


def test_missing_members_file_is_a_content_error(tmp_path):
    with pytest.raises(ContentError, match="members file not found"):
        list(iter_members(tmp_path / "nope.csv"))


def test_find_member_is_case_insensitive():
    assert find_member(REPO / "members.example.csv", "AIKO.TANAKA@example.org").name == "Aiko Tanaka"


@pytest.mark.parametrize("block", [2, 3, 500])
def test_duplicates_are_found_within_and_across_lookup_blocks(tmp_path, block):
    path = tmp_path / "members.csv"
    path.write_text("email\na@example.org\nb@example.org\nA@EXAMPLE.ORG\nc@example.org\nb@example.org\nd@example.org\n"
                    "a@example.org\n", encoding="utf-8")
    rows = list(without_duplicates(iter_members(path), block=block))
    assert [(r.line, r.email) for r in rows if isinstance(r, Member)] == [
        (2, "a@example.org"), (3, "b@example.org"), (5, "c@example.org"), (7, "d@example.org")]
    assert [(r.line, r.reason) for r in rows if isinstance(r, SkippedMember)] == [
        (4, "duplicate of line 2"), (6, "duplicate of line 3"), (8, "duplicate of line 2")]
