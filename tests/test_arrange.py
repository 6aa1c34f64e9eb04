"""Arranging an issue from the command line (`digest item mv|rm|undraft`, `digest section
rename`) on a copy of the seed issue: each edit changes exactly what it says, keeps
every comment, and refuses a name that does not exist without touching anything."""
from __future__ import annotations

import pytest

from digest.content import load_issue

from .newsroom import digest, snapshot

COMMENTED = {
    '    "01-jcm-city-to-city-brochure.md",\n': '    "01-jcm-city-to-city-brochure.md",  # the lead\n',
    'title = "ICLEI Café"\n': 'title = "ICLEI Café"  # named by the Tokyo office\n',
    '    "08-isap-2015.md",\n': '    "08-isap-2015.md",  # check the date\n',
}


@pytest.fixture
def seed(seed_copy):
    """The seed issue (issues/2015-10 under the newsroom's issues folder) with comments on its lines."""
    path = seed_copy / "issue.toml"
    text = path.read_text(encoding="utf-8")
    for line, commented in COMMENTED.items():
        text = text.replace(line, commented)
    path.write_text(text, encoding="utf-8")
    return seed_copy


def toml(folder) -> str:
    return (folder / "issue.toml").read_text(encoding="utf-8")


def layout(folder) -> list[tuple[str, list[str]]]:
    return [(s.title, [i.path.name[:2] for i in s.items]) for s in load_issue(folder).sections]


def test_item_mv_moves_an_item_with_its_comment_to_a_position_in_another_section(newsroom, seed):
    before = toml(seed)
    result = digest(newsroom, "item", "mv", "2015-10", "08-isap-2015", "--section", "Publications", "--position", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{seed / '08-isap-2015.md'}: item 1 of 'Publications'"
    assert layout(seed) == [("Publications", ["08", "01", "02"]), ("ICLEI Café", ["03", "04"]),
                            ("Cities working together", ["05", "06", "07", "09"])]
    assert toml(seed) == before.replace('    "08-isap-2015.md",  # check the date\n', "").replace(
        'items = [\n    "01-jcm', 'items = [\n    "08-isap-2015.md",  # check the date\n    "01-jcm')


def test_item_mv_without_a_section_reorders_within_the_item_s_own(newsroom, seed):
    assert digest(newsroom, "item", "mv", str(seed), "02-low-carbon-resilient-cities-catalog.md", "--position", "1").exit_code == 0
    assert layout(seed)[0] == ("Publications", ["02", "01"])
    assert '    "01-jcm-city-to-city-brochure.md",  # the lead\n' in toml(seed)


def test_item_mv_to_a_new_section_only_when_asked(newsroom, seed):
    before = snapshot(seed)
    refused = digest(newsroom, "item", "mv", "2015-10", "03-fourth-iclei-cafe", "--section", "Events")
    assert refused.exit_code == 1 and "no section 'Events'" in refused.output and snapshot(seed) == before
    moved = digest(newsroom, "item", "mv", "2015-10", "03-fourth-iclei-cafe", "--section", "Events", "--new-section")
    assert moved.exit_code == 0, moved.output
    assert layout(seed)[-1] == ("Events", ["03"])


def test_moving_the_last_item_out_of_a_section_warns_that_it_is_empty(newsroom, seed):
    digest(newsroom, "item", "mv", "2015-10", "03-fourth-iclei-cafe", "--section", "Publications")
    result = digest(newsroom, "item", "mv", "2015-10", "04-iclei-cafe-started", "--section", "Publications")
    assert result.exit_code == 0
    assert "warning: section 'ICLEI Café' has no items now" in result.stderr
    assert 'title = "ICLEI Café"  # named by the Tokyo office\n' in toml(seed)


@pytest.mark.parametrize("args,message", [
    (["item", "mv", "2015-10", "08-isap", "--section", "Publications"], "no item '08-isap' is listed (did you mean '08-isap-2015.md'?)"),
    (["item", "mv", "2015-10", "08-isap-2015", "--section", "Publication"],
     "no section 'Publication' (did you mean 'Publications'?); the sections are 'Publications', 'ICLEI Café', 'Cities working together'"),
    (["item", "mv", "2015-10", "08-isap-2015", "--section", "Publications", "--position", "4"], "position 4 is not in section 'Publications': give 1 to 3"),
    (["item", "rm", "2015-10", "10-missing"], "no item '10-missing' is listed"),
    (["item", "undraft", "2015-10", "01-jcm-city-to-city-brochure"], "is not a draft"),
    (["section", "rename", "2015-10", "ICLEI Cafe", "Café"], "no section 'ICLEI Cafe' (did you mean 'ICLEI Café'?)"),
    (["section", "rename", "2015-10", "ICLEI Café", "Publications"], "there is already a section 'Publications'"),
], ids=["unknown-item", "unknown-section", "position-out-of-range", "rm-unknown", "undraft-not-a-draft",
        "rename-unknown", "rename-onto-existing"])
def test_arranging_refuses_what_does_not_exist_in_one_line_and_changes_nothing(newsroom, seed, args, message):
    before = snapshot(seed)
    result = digest(newsroom, *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and message in result.output, result.output
    assert snapshot(seed) == before


def test_item_rm_removes_the_file_and_its_line_together(newsroom, seed):
    before = toml(seed)
    result = digest(newsroom, "item", "rm", "2015-10", "08-isap-2015.md")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"removed {seed / '08-isap-2015.md'} (item 4 of 'Cities working together')"
    assert not (seed / "08-isap-2015.md").exists()
    assert toml(seed) == before.replace('    "08-isap-2015.md",  # check the date\n', "")
    assert sorted(p.name for p in seed.iterdir() if p.name.startswith(".")) == []


def test_item_rm_removes_the_item_s_translations_with_it(newsroom, seed):
    translation = seed / "08-isap-2015.ja.md"
    translation.write_text('+++\ntitle = "ISAP 2015（日本語）"\n+++\n本文。\n', encoding="utf-8")
    (seed / "09-jcm-workshop-jakarta.ja.md").write_text('+++\ntitle = "JCM"\n+++\n本文。\n', encoding="utf-8")
    result = digest(newsroom, "item", "rm", "2015-10", "08-isap-2015")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [f"removed its translation {translation}"]
    assert not translation.exists() and (seed / "09-jcm-workshop-jakarta.ja.md").exists()


def test_item_rm_of_a_one_line_array_keeps_its_comment(newsroom, seed):
    path = seed / "issue.toml"
    path.write_text(toml(seed).replace('items = [\n    "03-fourth-iclei-cafe.md",\n    "04-iclei-cafe-started.md",\n]',
                                       'items = ["03-fourth-iclei-cafe.md", "04-iclei-cafe-started.md"]  # two cafés'), encoding="utf-8")
    assert digest(newsroom, "item", "rm", "2015-10", "03-fourth-iclei-cafe").exit_code == 0
    assert 'items = ["04-iclei-cafe-started.md"]  # two cafés\n' in toml(seed)


def test_item_undraft_deletes_only_the_draft_line(newsroom, seed):
    item = seed / "06-kyoto-study-meeting.md"
    text = item.read_text(encoding="utf-8")
    item.write_text(text.replace("+++\n", "+++\n# pulled from a feed\ndraft = true  # keep?\n", 1), encoding="utf-8")
    assert load_issue(seed).items[5].draft
    result = digest(newsroom, "item", "undraft", "2015-10", "06-kyoto-study-meeting")
    assert result.exit_code == 0 and result.stdout.strip() == f"kept {item}"
    assert item.read_text(encoding="utf-8") == text.replace("+++\n", "+++\n# pulled from a feed\n", 1)


def test_item_undraft_all_keeps_every_draft_and_needs_names_or_all(newsroom, seed):
    for name in ("02-low-carbon-resilient-cities-catalog.md", "09-jcm-workshop-jakarta.md"):
        path = seed / name
        path.write_text(path.read_text(encoding="utf-8").replace("+++\n", "+++\ndraft = true\n", 1), encoding="utf-8")
    assert digest(newsroom, "item", "undraft", "2015-10").exit_code == 2
    assert digest(newsroom, "item", "undraft", "2015-10", "--all").exit_code == 0
    assert not any(item.draft for item in load_issue(seed).items)


def test_section_rename_keeps_the_comment_on_the_title_line(newsroom, seed):
    before = toml(seed)
    result = digest(newsroom, "section", "rename", "2015-10", "ICLEI Café", 'Café "talks"')
    assert result.exit_code == 0 and result.stdout.strip() == "section 2: 'ICLEI Café' is now 'Café \"talks\"'"
    assert toml(seed) == before.replace('title = "ICLEI Café"  #', 'title = "Café \\"talks\\""  #')


def test_arranging_keeps_crlf_line_endings(newsroom, seed):
    path = seed / "issue.toml"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert digest(newsroom, "item", "mv", "2015-10", "05-uea-summit-iloilo", "--position", "2").exit_code == 0
    assert digest(newsroom, "section", "rename", "2015-10", "Publications", "Reports").exit_code == 0
    data = path.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert layout(seed)[2] == ("Cities working together", ["06", "05", "07", "08", "09"])


def test_inline_table_sections_are_refused_rather_than_rewritten(newsroom, make_issue):
    folder = make_issue({"issue.toml": 'title = "t"\ndate = 2026-01-31\nsubject = "s"\nsections = [{title = "A", items = ["one.md"]}]\n'})
    before = snapshot(folder)
    result = digest(newsroom, "section", "rename", str(folder), "A", "B")
    assert result.exit_code == 1 and "can only edit sections written as [[sections]] tables" in result.output
    assert snapshot(folder) == before
