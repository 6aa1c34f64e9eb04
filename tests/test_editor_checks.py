"""The checks added for editors: duplicate links, template leftovers, drafts left in,
and images that are not https, each at its file and line."""
from __future__ import annotations

import pytest

from digest.checks.preflight import check_issue

from .conftest import MINIMAL_ISSUE_TOML, MINIMAL_ITEM

TWO_ITEMS = MINIMAL_ISSUE_TOML.replace('["one.md"]', '["one.md", "two.md"]')


def findings_for(make_issue, settings, files):
    return [(f.severity, f.path.name, f.line, f.message) for f in check_issue(make_issue(files), settings)]


def test_duplicate_link_warns_at_the_second_item_naming_the_first(make_issue, settings):
    two = '+++\ntitle = "Two"\nlink = "HTTPS://Example.org/one/#comments"\n+++\nBody.\n'
    found = findings_for(make_issue, settings, {"issue.toml": TWO_ITEMS, "two.md": two})
    assert found == [("warning", "two.md", 3, "link HTTPS://Example.org/one/#comments is also the link of one.md:3")]


def test_distinct_links_do_not_warn(make_issue, settings):
    two = MINIMAL_ITEM.replace("/one", "/two")
    assert findings_for(make_issue, settings, {"issue.toml": TWO_ITEMS, "two.md": two}) == []


@pytest.mark.parametrize("files,where,key", [
    ({"one.md": MINIMAL_ITEM.replace("Item one", "Hello {{ name }}")}, ("one.md", 2), "title"),
    ({"one.md": MINIMAL_ITEM + "\nMore text.\n{% if member %}Hi{% endif %}\n"}, ("one.md", 8), "body"),
    ({"one.md": MINIMAL_ITEM.replace("+++\nBody", "+++\n\n\nBody") + "{{ x }}\n"}, ("one.md", 8), "body"),
    ({"issue.toml": MINIMAL_ISSUE_TOML.replace("Test subject", "News for {{ member.name }}")}, ("issue.toml", 3), "subject"),
], ids=["item-title", "item-body", "item-body-after-blank-lines", "issue-subject"])
def test_unresolved_template_syntax_warns_at_its_line(make_issue, settings, files, where, key):
    found = findings_for(make_issue, settings, files)
    assert [(s, name, line) for s, name, line, m in found if m.startswith(f"{key} contains")] == [("warning", *where)]


def test_draft_item_warns_at_its_draft_line(make_issue, settings):
    draft = MINIMAL_ITEM.replace('+++\nBody', 'draft = true  # from a feed\n+++\nBody')
    found = findings_for(make_issue, settings, {"one.md": draft})
    assert [(s, name, line) for s, name, line, m in found] == [("warning", "one.md", 4)]
    assert "draft" in found[0][3]


def test_http_image_is_an_error(make_issue, settings):
    picture = MINIMAL_ITEM.replace('+++\nBody', 'image = "http://example.org/a.png"\nimage_alt = "A"\n+++\nBody')
    found = findings_for(make_issue, settings, {"one.md": picture})
    assert [(s, name, line) for s, name, line, m in found] == [("error", "one.md", 4)]
    assert "https" in found[0][3]
