"""Every visible text node of the email, in chromium, has at least 4.5:1 contrast
against what is behind it, with light and with dark emulation; and the dark rules
really repaint the page, the card, the headings and the footer."""
from __future__ import annotations

import pytest

from digest.checks.contrast import contrast_ratio, parse_colour
from digest.content import load_issue
from digest.render import render_issue, render_web_page
from digest.render.build import sample_message

from .browser import chromium_browser, needs_chromium, rich_issue
from .conftest import SEED_ISSUE

pytestmark = needs_chromium

# For each visible text node: its text, its computed colour, and the first opaque
# background at or above it (the canvas when there is none).
TEXT_NODES_JS = """() => {
  const canvas = getComputedStyle(document.documentElement).backgroundColor;
  const opaque = c => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    let bg = null;
    for (let up = el; up && !bg; up = up.parentElement) {
      const c = getComputedStyle(up).backgroundColor;
      if (opaque(c)) bg = c;
    }
    out.push({text: text.slice(0, 50), color: getComputedStyle(el).color, background: bg || (opaque(canvas) ? canvas : 'rgb(255, 255, 255)'), tag: el.tagName});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    from digest.config import load_settings

    from .conftest import REPO

    settings = load_settings(REPO / "config.toml", environ={})
    issue = load_issue(rich_issue(tmp_path_factory.mktemp("contrast") / "2015-10", SEED_ISSUE))
    return {"email": sample_message(render_issue(issue, settings), settings).html, "web": render_web_page(issue, settings)}


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as launched:
        yield launched


def text_nodes(browser, html: str, scheme: str) -> list[dict]:
    page = browser.new_page(color_scheme=scheme, viewport={"width": 640, "height": 900})
    try:
        page.set_content(html, wait_until="domcontentloaded")
        return page.evaluate(TEXT_NODES_JS)
    finally:
        page.close()


def rgb(css: str) -> tuple[int, int, int]:
    colour = parse_colour(css)
    assert colour is not None, f"an opaque colour, got {css}"
    return colour


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("kind", ["email", "web"])
def test_every_text_node_has_aa_contrast(browser, pages, kind, scheme):
    nodes = text_nodes(browser, pages[kind], scheme)
    assert len(nodes) > 30, "every heading, paragraph, list item, link and footer line"
    weak = [(n["text"], n["color"], n["background"], round(contrast_ratio(rgb(n["color"]), rgb(n["background"])), 2))
            for n in nodes if contrast_ratio(rgb(n["color"]), rgb(n["background"])) < 4.5]
    assert weak == []


def test_dark_mode_repaints_page_card_headings_links_and_footer(browser, pages, settings):
    theme = settings.theme
    light, dark = (
        {n["text"]: n for n in text_nodes(browser, pages["email"], scheme)} for scheme in ("light", "dark"))
    expectations = {
        "ICLEI Japan News": (theme.text, theme.background, theme.dark_text, theme.dark_background),
        "Publications": (theme.accent, theme.card, theme.dark_accent, theme.dark_card),
        "October 30, 2015": (theme.muted, theme.background, theme.dark_muted, theme.dark_background),
        "Unsubscribe": (theme.accent, theme.background, theme.dark_accent, theme.dark_background),
        "the city's plan": (theme.accent, theme.card, theme.dark_accent, theme.dark_card),
    }
    for text, (fg, bg, dark_fg, dark_bg) in expectations.items():
        assert (rgb(light[text]["color"]), rgb(light[text]["background"])) == (parse_colour(fg), parse_colour(bg)), text
        assert (rgb(dark[text]["color"]), rgb(dark[text]["background"])) == (parse_colour(dark_fg), parse_colour(dark_bg)), text


def test_the_contrast_probe_sees_a_faint_paragraph(browser, pages):
    faint = pages["email"].replace("</body>", '<p style="color:#cccccc;background:#ffffff">Faint text</p></body>')
    node = next(n for n in text_nodes(browser, faint, "light") if n["text"] == "Faint text")
    assert contrast_ratio(rgb(node["color"]), rgb(node["background"])) < 4.5
