"""The seed issue is the ICLEI Japan News page, verbatim and in order."""
from __future__ import annotations

import datetime as dt

from digest.content import load_issue

from .conftest import SEED_ISSUE


def test_seed_issue_has_every_seed_item_in_seed_order(seed_items):
    issue = load_issue(SEED_ISSUE)
    assert [item.title for item in issue.items] == [title for title, _ in seed_items]


def test_seed_item_bodies_are_verbatim_except_the_documented_typo(seed_items):
    issue = load_issue(SEED_ISSUE)
    for item, (_, body) in zip(issue.items, seed_items):
        if "o n Sep 3rd" in body:
            assert item.body == body.replace("o n Sep 3rd", "on Sep 3rd")
            assert "Typo corrected" in item.path.read_text(encoding="utf-8")
        else:
            assert item.body == body


def test_seed_issue_metadata_loads_typed():
    issue = load_issue(SEED_ISSUE)
    assert issue.slug == "2015-10"
    assert issue.date == dt.date(2015, 10, 30)
    assert "イクレイ" in issue.subject
    assert [s.title for s in issue.sections] == ["Publications", "ICLEI Café", "Cities working together"]


def test_collecting_mode_reports_unlisted_item_file_as_warning(make_issue):
    folder = make_issue({"stray.md": "+++\ntitle = \"Stray\"\n+++\nText\n"})
    findings = []
    load_issue(folder, findings)
    assert [(f.severity, f.path.name) for f in findings] == [("warning", "stray.md")]
