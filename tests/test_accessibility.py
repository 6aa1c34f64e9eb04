"""axe-core in chromium finds no serious or critical accessibility violation in the
email or its web version, in light or dark mode; and the outline is h1, h2, h3."""
from __future__ import annotations

import re

import pytest

from digest.checks.preflight import check_issue
from digest.content import load_issue
from digest.render import render_issue, render_web_page
from digest.render.build import sample_message

from .browser import chromium_browser, needs_chromium, rich_issue
from .conftest import SEED_ISSUE


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from digest.config import load_settings

    from .conftest import REPO

    settings = load_settings(REPO / "config.toml", environ={})
    issue = load_issue(rich_issue(tmp_path_factory.mktemp("a11y") / "2015-10", SEED_ISSUE))
    return {
        "email": sample_message(render_issue(issue, settings), settings).html,
        "web": render_web_page(issue, settings),
    }


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as launched:
        yield launched


def axe_violations(browser, html: str, scheme: str) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(color_scheme=scheme)
    try:
        page.set_content(html, wait_until="domcontentloaded")
        return Axe().run(page).response["violations"]
    finally:
        page.close()


@needs_chromium
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", ["email", "web"])
def test_axe_finds_no_serious_or_critical_violation(browser, pages, kind, scheme):
    violations = axe_violations(browser, pages[kind], scheme)
    grave = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations if v["impact"] in ("serious", "critical")]
    assert grave == []
    assert "color-contrast" not in {v["id"] for v in violations}


@needs_chromium
def test_axe_would_report_a_contrast_failure(browser, pages):
    """The harness can fail: a grey-on-white paragraph is a serious violation."""
    weak = pages["email"].replace("</body>", '<p style="color:#bbbbbb;background:#ffffff">Faint text</p></body>')
    assert "color-contrast" in {v["id"] for v in axe_violations(browser, weak, "light")}


def test_outline_is_one_h1_then_sections_h2_then_items_h3(pages):
    headings = re.findall(r"<(h[1-6])\b", pages["email"])
    assert headings[0] == "h1" and headings.count("h1") == 1
    assert headings.count("h2") == 3 and headings.count("h3") == 10
    for before, after in zip(headings, headings[1:]):
        assert int(after[1]) <= int(before[1]) + 1


def test_no_link_reads_read_more_and_every_link_names_its_target(pages):
    texts = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<a\b[^>]*>(.*?)</a>", pages["email"], re.S)]
    assert texts and all(texts)
    assert not [t for t in texts if t.lower() in ("read more", "click here", "here", "more")]
    assert "Cities share what works: Toyama's compact city plan" in texts


def test_decorative_image_gets_an_empty_alt_on_purpose(make_issue, settings):
    item = '+++\ntitle = "Item"\nimage = "https://example.org/rule.png"\nimage_alt = ""\n+++\nBody.\n'
    folder = make_issue({"one.md": item})
    html = sample_message(render_issue(load_issue(folder), settings), settings).html
    assert re.search(r'<img alt="" [^>]*src="https://example.org/rule.png"', html)
    assert [f for f in check_issue(folder, settings) if f.severity == "error"] == [], "alt written out as empty is deliberate"


def test_web_version_has_description_canonical_open_graph_and_a_subscribe_link(pages, settings):
    web = pages["web"]
    url = "https://news.iclei-japan.example.org/2015-10/"
    assert '<link rel="canonical" href="%s">' % url in web
    assert re.search(r'<meta name="description" content="A JCM brochure[^"]*">', web)
    for prop, value in (("og:type", "article"), ("og:url", url), ("og:site_name", "ICLEI Japan News"), ("og:title", "ICLEI Japan News, October 2015")):
        assert re.search(rf'<meta property="{prop}" content="{re.escape(value)}', web), prop
    assert '<a href="https://news.iclei-japan.example.org/subscribe"' in web
    assert "unsubscribe" not in web.lower()
