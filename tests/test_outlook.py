"""Markup Outlook desktop lays out right: pixel widths on every image and column that
survive CSS inlining, no unitless-zero padding, the resets and MSO fallbacks kept, and
the metas that stop clients from rewriting the layout."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from digest.content import load_issue
from digest.render import render_issue
from digest.render.build import sample_message

from .conftest import MINIMAL_ISSUE_TOML, REPO, with_table

PICTURE_ITEM = '''+++
title = "With a picture"
link = "https://example.org/one"
image = "https://example.org/cover.png"
image_alt = "Cover of the brochure"
+++
Body.
'''


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(html: str, tag: str) -> list[dict]:
    parser = _Elements()
    parser.feed(html)
    return [attrs for name, attrs in parser.elements if name == tag]


@pytest.fixture(scope="module")
def picture_html(tmp_path_factory):
    from digest.config import load_settings

    folder = tmp_path_factory.mktemp("outlook") / "issue"
    folder.mkdir()
    (folder / "issue.toml").write_text(MINIMAL_ISSUE_TOML, encoding="utf-8")
    (folder / "one.md").write_text(PICTURE_ITEM, encoding="utf-8")
    settings = with_table(load_settings(REPO / "config.toml", environ={}), "theme",
                          logo_url="https://example.org/logo.png", logo_alt="ICLEI Japan")
    from dataclasses import replace

    from digest.config import Theme

    settings = replace(settings, theme=Theme(**{k: str(v) for k, v in settings.tables["theme"].items()}))
    return sample_message(render_issue(load_issue(folder), settings), settings).html


def test_every_image_has_a_pixel_width_attribute_and_none_a_percentage(picture_html):
    images = elements(picture_html, "img")
    assert len(images) == 2, "the logo and the item's picture"
    widths = sorted(attrs.get("width", "") for attrs in images)
    assert widths == ["160", "552"], widths
    for attrs in images:
        assert "%" not in attrs.get("width", "") and "%" not in attrs.get("height", "")


def test_outlook_column_and_divider_tables_are_the_padded_pixel_width(seed_rendered):
    html = seed_rendered.html.merge([""] * len(seed_rendered.slots))
    outlook = "".join(re.findall(r"<!--\[if mso \| IE\]>(.*?)<!\[endif\]-->", html, re.S))
    divider_widths = set(re.findall(r'<table[^>]*align="center" width="(\d+px)"[^>]*border-top', outlook))
    assert divider_widths == {"552px"}, "dividers inside 24px padding: MRML gives 600 when padding has a unitless 0"
    assert set(re.findall(r'<td style="vertical-align:top;width:(\d+px);">', outlook)) == {"600px"}


def test_templates_write_no_unitless_zero_in_padding():
    offenders = []
    for path in (REPO / "templates").rglob("*.mjml"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for value in re.findall(r'padding="([^"]*)"', line):
                if any(part == "0" for part in value.split()):
                    offenders.append(f"{path.name}:{number}: {value}")
    assert offenders == []


def test_outlook_resets_and_font_fallback_are_kept(seed_rendered):
    html = seed_rendered.html.literals[0]
    head = html[: html.index("</head>")]
    assert re.search(r"#outlook a\s*\{\s*padding:\s*0", head)
    assert re.search(r"table, td\s*\{[^}]*mso-table-lspace:\s*0pt", head)
    assert re.search(r"<!--\[if mso\]><style>[^<]*font-family:\s*Arial[^<]*!important", head)
    assert "<o:OfficeDocumentSettings>" in head


def test_client_metas_are_present(seed_rendered):
    metas = {attrs.get("name"): attrs.get("content") for attrs in elements(seed_rendered.html.literals[0], "meta")}
    assert "x-apple-disable-message-reformatting" in metas
    assert "telephone=no" in metas["format-detection"] and "address=no" in metas["format-detection"]
    assert metas["color-scheme"] == "light dark"
