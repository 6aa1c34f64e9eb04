"""Pages per language: the archive's issue pages, indexes and feeds; the preview's
language switch and untranslated list; both editions in Chromium at phone width, with
Japanese text set in a Japanese face."""
from __future__ import annotations

import functools
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest
import requests

from digest.config import load_settings
from digest.preview import create_server
from digest.site.archive import build_archive

from .conftest import REPO, SEED_ISSUE

FIXTURE = REPO / "tests" / "fixtures" / "issues" / "2026-04"
CHROMIUM = shutil.which("chromium")
BASE = "https://news.iclei-japan.example.org"
ENGLISH_ONLY = '''title = "City Climate Notes"
date = 2016-01-29
subject = "City Climate Notes, January 2016"
preheader = "Solar roofs on schools."

[[sections]]
title = "Energy"
items = ["01-solar-schools.md"]
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """Config, templates and catalogs around the seed issue, the translated fixture and an English-only issue."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(REPO / "config.toml", root / "config.toml")
    shutil.copy(REPO / "members.example.csv", root / "members.example.csv")
    for folder in ("templates", "locale"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copytree(SEED_ISSUE, root / "issues" / "2015-10")
    shutil.copytree(FIXTURE, root / "issues" / "2026-04")
    english = root / "issues" / "2016-01"
    english.mkdir()
    (english / "issue.toml").write_text(ENGLISH_ONLY, encoding="utf-8")
    shutil.copy(FIXTURE / "01-solar-schools.md", english)
    return root


@pytest.fixture(scope="module")
def site(project) -> Path:
    return build_archive(load_settings(project / "config.toml", environ={})).out_dir


@pytest.fixture(scope="module")
def site_url(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_each_issue_has_a_page_per_language_with_hreflang_alternates(site):
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("index.html"))
    assert pages == ["2015-10/index.html", "2016-01/index.html", "2026-04/index.html", "index.html",
                     "ja/2015-10/index.html", "ja/2026-04/index.html", "ja/index.html"]
    for name in ("2026-04/index.html", "ja/2026-04/index.html"):
        alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', read(site, name))
        assert alternates == [("en", f"{BASE}/2026-04/"), ("ja", f"{BASE}/ja/2026-04/")]
    assert '<html lang="ja"' in read(site, "ja/2026-04/index.html") and "2026年4月30日" in read(site, "ja/2026-04/index.html")
    assert "hreflang" not in read(site, "2016-01/index.html"), "an issue in one language links no alternates"


def fetch(url: str) -> str:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, url
    return response.content.decode("utf-8")  # the static server names no charset


def test_the_language_switch_and_all_issues_links_work_over_http(site_url):
    english_url = urljoin(site_url, "2026-04/")
    switch = re.search(r'<a href="([^"]+)" hreflang="ja" lang="ja"[^>]*>日本語</a>', fetch(english_url)).group(1)
    japanese_url = urljoin(english_url, switch)
    japanese = fetch(japanese_url)
    assert japanese_url == urljoin(site_url, "ja/2026-04/") and "都市の気候ノート" in japanese
    back = re.search(r'<a href="([^"]+)" hreflang="en" lang="en"[^>]*>English</a>', japanese).group(1)
    assert urljoin(japanese_url, back) == english_url and "City Climate Notes" in fetch(english_url)
    index = fetch(urljoin(japanese_url, "../"))
    assert '<html lang="ja"' in index and "これまでの号" in index, "All issues leads to the Japanese index"


def test_a_languages_index_lists_every_issue_untranslated_ones_marked_in_their_language(site):
    index = read(site, "ja/index.html")
    entries = re.findall(r'<li>\s*<a href="([^"]+)"( lang="en")?>([^<]+)</a>', index)
    assert entries == [("2026-04/", "", "都市の気候ノート"), ("../2016-01/", ' lang="en"', "City Climate Notes"),
                       ("2015-10/", "", "イクレイ日本ニュース")]
    assert re.search(r'<a href="../" hreflang="en" lang="en">English</a>', index)


def test_one_atom_feed_per_language_with_its_own_urls(site):
    english, japanese = feedparser.parse(read(site, "feed.xml")), feedparser.parse(read(site, "ja/feed.xml"))
    assert not english.bozo and not japanese.bozo
    assert [e.link for e in english.entries] == [f"{BASE}/2026-04/", f"{BASE}/2016-01/", f"{BASE}/2015-10/"]
    assert [e.link for e in japanese.entries] == [f"{BASE}/ja/2026-04/", f"{BASE}/2016-01/", f"{BASE}/ja/2015-10/"]
    assert japanese.feed.language == "ja" and japanese.feed.id == f"{BASE}/ja/"
    assert [e.title for e in japanese.entries][0] == "都市の気候ノート" and japanese.entries[1].title == "City Climate Notes"
    assert re.search(r'<entry xml:lang="en">\s*<id>https://news\.iclei-japan\.example\.org/2016-01/', read(site, "ja/feed.xml"))


@pytest.fixture(scope="module")
def preview(project):
    server = create_server(load_settings(project / "config.toml", environ={}), "127.0.0.1", 0, "daisuke.mori@example.org")
    thread = server.serve_in_thread()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_the_preview_shows_the_members_language_and_switches_to_the_others(preview):
    page = requests.get(f"{preview.url}issues/2015-10/", timeout=30).text
    nav = re.search(r'<nav id="languages".*?</nav>', page, re.S).group(0)
    assert '<a href="/issues/2015-10/en/" hreflang="en" lang="en">English</a>' in nav
    assert '<strong lang="ja">日本語</strong> (this member' in nav
    assert "森 大輔 様" in requests.get(f"{preview.url}issues/2015-10/email.html", timeout=30).text
    english = requests.get(f"{preview.url}issues/2015-10/en/", timeout=30).text
    assert "Subject</th><td>ICLEI Japan News, October 2015" in english and 'src="/issues/2015-10/en/email.html"' in english
    assert "Dear 森 大輔," in requests.get(f"{preview.url}issues/2015-10/en/email.txt", timeout=30).text
    assert requests.get(f"{preview.url}issues/2015-10/fr/", timeout=30).status_code == 404
    assert requests.get(f"{preview.url}issues/2015-10/..%2f/email.html", timeout=30).status_code == 404


def test_the_preview_lists_the_untranslated_items_per_language(preview):
    page = requests.get(f"{preview.url}issues/2015-10/", timeout=30).text
    listed = re.search(r'<details class="untranslated" id="untranslated-ja"><summary>([^<]+)</summary>(.*?)</details>', page, re.S)
    assert listed.group(1) == "Not translated into ja: 9 of 9 item(s)"
    assert re.findall(r"<code>([^<]+)</code>", listed.group(2))[0] == "01-jcm-city-to-city-brochure.md"
    assert 'id="untranslated-' not in requests.get(f"{preview.url}issues/2026-04/", timeout=30).text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium with apt-get)")
@pytest.mark.parametrize("language", ["en", "ja"])
def test_in_chromium_both_editions_fit_a_375px_phone_and_japanese_is_set_in_a_japanese_face(preview, language):
    sync_api = pytest.importorskip("playwright.sync_api")
    url = f"{preview.url}issues/2026-04/{language}/email.html"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 375, "height": 800})
            page.goto(url)
            widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert widths[1] == 375 and widths[0] <= widths[1], f"scrolls sideways: {widths}"
            stack = page.locator("h2").nth(1).evaluate("e => getComputedStyle(e).fontFamily")
            for face in ("Hiragino", "Yu Gothic", "Meiryo"):
                assert face in stack
            session = page.context.new_cdp_session(page)
            session.send("DOM.enable")
            session.send("CSS.enable")
            root = session.send("DOM.getDocument")["root"]["nodeId"]
            node = session.send("DOM.querySelectorAll", {"nodeId": root, "selector": "h2"})["nodeIds"][1]
            fonts = [f["familyName"] for f in session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]
        finally:
            browser.close()
    if language == "ja":  # "2030年までに...": the digits may come from a Latin face, the kana and kanji from a JP one
        assert any(name.endswith(" JP") for name in fonts), f"Japanese laid out with {fonts}; .ci/run installs fonts-noto-cjk"
        assert not any(re.search(r"CJK (SC|TC|HK|KR)", name) for name in fonts), f"Chinese or Korean glyph forms: {fonts}"
    else:
        assert not any("CJK" in name for name in fonts), fonts
