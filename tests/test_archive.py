"""The web archive: a static site any host can serve, an Atom feed, no member data,
drafts left out, and a bad issue leaves the previous site as it was."""
from __future__ import annotations

import functools
import re
import shutil
import threading
import xml.etree.ElementTree as ET
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest
import requests
from click.testing import CliRunner

from digest.site.archive import ATOM_NS, build_archive
from digest.render.build import sample_message
from digest.cli import cli
from digest.config import load_settings
from digest.content import load_issue
from digest.errors import ContentError
from digest.render import render_issue

from .conftest import MINIMAL_ISSUE_TOML, REPO, SEED_ISSUE

A = f"{{{ATOM_NS}}}"
SECOND_ISSUE_TOML = MINIMAL_ISSUE_TOML.replace('title = "Test issue"', 'title = "Rain & <Shine>"').replace(
    "date = 2026-01-31", "date = 2026-02-28").replace('preheader = "Preheader"\n', 'intro = "Read [the report](https://example.org/r) now."\n')
DRAFT_TOML = MINIMAL_ISSUE_TOML.replace('title = "Test issue"', 'title = "Secret draft"').replace(
    "date = 2026-01-31", "date = 2026-03-31").replace("[[sections]]", "draft = true\n\n[[sections]]")


@pytest.fixture
def project(tmp_path, make_issue):
    """A project folder: config, templates, the seed issue, a later issue and a newer draft."""
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copytree(REPO / "locale", tmp_path / "locale")
    shutil.copytree(SEED_ISSUE, tmp_path / "issues" / "2015-10")
    make_issue({"issue.toml": SECOND_ISSUE_TOML}, name="issues/2026-02")
    make_issue({"issue.toml": DRAFT_TOML}, name="issues/2026-03-draft")
    return tmp_path


@pytest.fixture
def project_settings(project):
    return load_settings(project / "config.toml", environ={})


@pytest.fixture
def site(project_settings) -> Path:
    return build_archive(project_settings).out_dir


@pytest.fixture
def site_url(site):
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_site_goes_to_build_site_by_default_with_index_feed_and_a_page_per_issue_and_language(site, project):
    assert site == project / "build" / "site"
    files = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert files == ["2015-10/index.html", "2026-02/index.html", "feed.xml", "index.html",
                     "ja/2015-10/index.html", "ja/feed.xml", "ja/index.html"]


def test_index_lists_issues_newest_first_with_date_and_summary(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'<a href="([^"]+/)">', index) == ["2026-02/", "2015-10/"]
    assert "Rain &amp; &lt;Shine&gt;" in index and "<Shine>" not in index
    assert "February 28, 2026" in index and "October 30, 2015" in index
    assert "A JCM brochure, a catalog of low-carbon Japanese cities" in index
    assert "Read the report now." in index, "without a preheader the summary is the intro as plain text"


def test_drafts_are_left_out_everywhere(site):
    assert not (site / "2026-03-draft").exists()
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert "Secret draft" not in text and "2026-03-draft" not in text, path


def test_feed_is_valid_atom_with_absolute_urls(site, project_settings):
    base = project_settings.newsletter.base_url
    raw = (site / "feed.xml").read_bytes()
    parsed = feedparser.parse(raw)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "ICLEI Japan News"
    assert [e.id for e in parsed.entries] == [f"{base}/2026-02/", f"{base}/2015-10/"]
    assert [e.link for e in parsed.entries] == [f"{base}/2026-02/", f"{base}/2015-10/"]
    assert parsed.entries[0].title == "Rain & <Shine>"
    assert parsed.entries[1].summary.startswith("A JCM brochure")

    root = ET.fromstring(raw)
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{tag}") is not None, tag
    self_link = [l for l in root.findall(f"{A}link") if l.get("rel") == "self"]
    assert self_link and self_link[0].get("href") == f"{base}/feed.xml"
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2
    for entry in entries:
        assert entry.find(f"{A}id").text.startswith(f"{base}/")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", entry.find(f"{A}updated").text)
        assert entry.find(f"{A}link").get("href").startswith("https://")
        assert entry.find(f"{A}summary").text
        assert entry.find(f"{A}title").text
    assert root.find(f"{A}updated").text == "2026-02-28T00:00:00Z", "the feed is as new as its newest entry"


def test_every_page_links_back_to_the_index_over_http(site_url):
    index = requests.get(site_url, timeout=10)
    assert index.status_code == 200
    for href in re.findall(r'<a href="([^"]+/)">', index.text):
        page_url = urljoin(site_url, href)
        page = requests.get(page_url, timeout=10)
        assert page.status_code == 200
        back = re.search(r'<a href="([^"]+)"[^>]*>All issues</a>', page.text)
        assert back, f"{href} has no All issues link"
        again = requests.get(urljoin(page_url, back.group(1)), timeout=10)
        assert again.status_code == 200 and "All issues, newest first" in again.text
    assert requests.get(urljoin(site_url, "feed.xml"), timeout=10).status_code == 200


def test_view_in_browser_link_in_the_email_is_the_issue_page_in_the_archive(site, site_url, project_settings):
    rendered = render_issue(load_issue(site.parent.parent / "issues" / "2015-10"), project_settings)
    message = sample_message(rendered, project_settings)
    link = re.search(r'<a href="([^"]+)"[^>]*>View this issue in your browser</a>', message.html).group(1)
    base = project_settings.newsletter.base_url
    assert link == f"{base}/2015-10/"
    page = requests.get(urljoin(site_url, link[len(base) + 1:]), timeout=10)
    assert page.status_code == 200
    assert page.content == (site / "2015-10" / "index.html").read_bytes()


def test_site_holds_no_member_address_token_or_slot(site, project_settings):
    member = project_settings.newsletter.sample_member_email
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for needle in (member, project_settings.newsletter.sample_member_name, "token=", "__digest_", "unsubscribe"):
                assert needle.lower() not in text.lower(), f"{needle!r} in {path}"


def test_bad_issue_stops_the_archive_naming_file_and_line_and_keeps_the_old_site(project, project_settings, site):
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    bad = project / "issues" / "2026-02" / "issue.toml"
    bad.write_text(SECOND_ISSUE_TOML.replace("date = 2026-02-28", "date = 2026-02-30"), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build_archive(project_settings)
    assert re.match(rf"{re.escape(str(bad))}:2: ", str(caught.value))
    result = CliRunner().invoke(cli, ["--config", str(project / "config.toml"), "archive"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {bad}:2: ") and len(result.output.strip().splitlines()) == 1
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in site.parent.iterdir()) == ["site"], "no temporary folders left behind"


def test_archive_command_rebuilds_into_out_and_reports_drafts(project, tmp_path):
    out = tmp_path / "elsewhere" / "site"
    out.mkdir(parents=True)
    (out / "stale.html").write_text("old", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(project / "config.toml"), "archive", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 issue(s)" in result.stdout and "left out draft 2026-03-draft" in result.stderr
    assert not (out / "stale.html").exists(), "the site is replaced whole, not patched"
    assert (out / "2026-02" / "index.html").is_file()
