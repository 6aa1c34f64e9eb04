"""Markup light enough that an issue of 50 seed-sized items stays under Gmail's clip,
and a check that warns before it does not."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest.checks.preflight import check_issue
from digest.content import load_issue
from digest.render import render_issue
from digest.render.build import sample_message

from .conftest import SEED_ISSUE, with_table


def seed_sized_issue(folder: Path, count: int, per_section: int = 10) -> Path:
    """``count`` items copied from the seed's (bodies verbatim, cycled), each with a link."""
    seed_items = sorted(SEED_ISSUE.glob("*.md"))
    folder.mkdir(parents=True)
    sections: list[list[str]] = []
    for n in range(count):
        head, body = seed_items[n % len(seed_items)].read_text(encoding="utf-8").split("+++\n", 2)[1:]
        name = f"{n:03d}.md"
        (folder / name).write_text(f'+++\n{head}link = "https://iclei-japan.example.org/news/{n:03d}"\n+++\n{body}', encoding="utf-8")
        if n % per_section == 0:
            sections.append([])
        sections[-1].append(name)
    toml = (SEED_ISSUE / "issue.toml").read_text(encoding="utf-8").split("[[sections]]")[0]
    for index, names in enumerate(sections):
        toml += f'[[sections]]\ntitle = "Section {index + 1}"\nitems = [{", ".join(repr(n) for n in names)}]\n\n'
    (folder / "issue.toml").write_text(toml.replace("'", '"'), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def fifty_items(tmp_path_factory):
    return seed_sized_issue(tmp_path_factory.mktemp("clip") / "fifty", 50)


def test_fifty_seed_sized_items_stay_under_the_clip_limit(fifty_items, settings):
    issue = load_issue(fifty_items)
    assert len(issue.items) == 50
    html = sample_message(render_issue(issue, settings), settings).html
    size = len(html.encode("utf-8"))
    assert size < settings.clip_bytes, f"{size:,} bytes"
    assert html.count('href="https://iclei-japan.example.org/news/') == 50
    assert "Unsubscribe</a>" in html[-3000:], "the footer is within the bytes Gmail shows"


def test_markup_is_not_repeated_per_block(seed_rendered, settings):
    html = seed_rendered.html.merge([""] * len(seed_rendered.slots))
    body = html[html.index("<body"):]
    assert "mso-table-lspace" not in body, "the table reset stays in <head>, not on every cell"
    assert html.count("Segoe UI") == 1, "the font stack is set once, on the page, and inherited"
    markup = len(html.encode()) - sum(len(t.encode()) for t in seed_rendered.issue.items for t in (t.title, t.body))
    assert markup / len(html.encode()) < 0.8, "markup was 87% of the seed issue when every block repeated it"


def test_check_warns_at_eighty_percent_of_the_clip_and_projects_what_still_fits(fifty_items, settings, tmp_path):
    def html_bytes(folder):
        return len(sample_message(render_issue(load_issue(folder), settings), settings).html.encode("utf-8"))

    tight = with_table(settings, "limits", clip_bytes=int(html_bytes(fifty_items) / 0.85))
    findings = [f for f in check_issue(fifty_items, tight) if "clip" in f.message and "edition" not in f.message]
    assert [f.severity for f in findings] == ["warning"], findings
    assert "85% of Gmail's clipping limit" in findings[0].message
    more = int(re.search(r"about (\d+) more items of this size fit", findings[0].message).group(1))
    assert more > 0
    assert html_bytes(seed_sized_issue(tmp_path / "projected", 50 + more)) <= tight.clip_bytes, "the projection fits"
    assert html_bytes(seed_sized_issue(tmp_path / "beyond", 50 + more + 2)) > tight.clip_bytes, "and is not far short"
    roomy = with_table(settings, "limits", clip_bytes=int(html_bytes(fifty_items) / 0.7))
    assert not [f for f in check_issue(fifty_items, roomy) if "clip" in f.message]
