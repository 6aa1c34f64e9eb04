"""Composing an issue: `digest new`, `digest add URL` and `digest pull` against a real
HTTP server on loopback, including hostile pages and broken feeds."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.checks.preflight import check_issue
from digest.cli import cli
from digest.sources.compose import NewItem, write_items
from digest.config import load_settings
from digest.content import load_issue

from .conftest import REPO
from .website import running_website


@pytest.fixture
def website():
    with running_website() as site:
        yield site


ARTICLE = """<!doctype html>
<html><head>
<meta charset="utf-8">
<title>Plain title | Example City</title>
<meta property="og:title" content="Solar roofs for every school">
<meta property="og:description" content="The city council agreed to put solar panels on all 40 schools by 2028.">
<meta property="og:image" content="https://cdn.example.org/solar.jpg">
<meta property="og:image:alt" content="Panels on a school roof">
<link rel="canonical" href="/news/solar-roofs">
</head><body><h1>Solar roofs</h1></body></html>
"""

HOSTILE = """<html><head>
<script>document.title = "<title>Injected</title>";</script>
<title>Ignored</title>
<meta property="og:title" content='Evil"\ndraft = true\n+++\n<script>alert(1)</script> &lt;b&gt;bold&lt;/b&gt; {{ member.email }}'>
<meta name="description" content="[click](javascript:alert(1)) <img src=x onerror=alert(1)> # heading
+++
link = &quot;https://evil.example/&quot;">
<meta property="og:image" content="javascript:alert(1)">
</head><body><title>not this</title></body></html>
"""

ISSUE_TOML = """# January: the editor's own notes, which `add` must keep.
title = "January"
date = 2026-01-31
subject = "January news"
preheader = "Solar roofs and more"

[[sections]]
title = "News"   # first section
items = [
    "one.md",   # the lead story
]

[[sections]]
title = "Events"
items = ["two.md"]  # one-line style
"""

ITEM = '+++\ntitle = "{title}"\nlink = "{link}"\n+++\nBody.\n'


@pytest.fixture
def newsroom(tmp_path, website):
    """A config.toml whose issues live in tmp_path/issues and whose feeds are on the test server."""
    config = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('issues = "issues"', f'issues = "{tmp_path / "issues"}"').replace('templates = "templates"', f'templates = "{REPO / "templates"}"')
    config.write_text(text + f'\n[feeds]\nurls = ["{website.url("/feed.rss")}", "{website.url("/feed.atom")}"]\n\n[fetch]\ntimeout = 2.0\n', encoding="utf-8")
    return config


@pytest.fixture
def issue(tmp_path):
    folder = tmp_path / "issues" / "2026-01"
    folder.mkdir(parents=True)
    (folder / "issue.toml").write_text(ISSUE_TOML, encoding="utf-8")
    (folder / "one.md").write_text(ITEM.format(title="One", link="https://example.org/one"), encoding="utf-8")
    (folder / "two.md").write_text(ITEM.format(title="Two", link="https://example.org/two"), encoding="utf-8")
    return folder


def digest(config: Path, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- digest new ---------------------------------------------------------------------

def test_new_scaffolds_an_issue_that_checks_without_findings(newsroom, tmp_path):
    result = digest(newsroom, "new", "2026-02", "--title", "February news", "--date", "2026-02-27")
    folder = tmp_path / "issues" / "2026-02"
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(folder)
    assert {p.name for p in folder.iterdir()} == {"issue.toml", "example-item.md"}
    issue = load_issue(folder)
    assert (issue.title, issue.date.isoformat(), issue.subject) == ("February news", "2026-02-27", "February news, February 2026")
    assert check_issue(folder, load_settings(newsroom, environ={})) == []


def test_new_refuses_to_overwrite_an_existing_issue(newsroom, issue):
    before = snapshot(issue)
    result = digest(newsroom, "new", "2026-01")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {issue}: already exists; not overwriting it"
    assert snapshot(issue) == before


def test_new_without_a_date_takes_the_month_a_month_slug_names(newsroom, tmp_path):
    assert digest(newsroom, "new", "2031-03").exit_code == 0
    issue = load_issue(tmp_path / "issues" / "2031-03")
    assert (issue.date.isoformat(), issue.subject) == ("2031-03-01", "ICLEI Japan News, March 2031")


@pytest.mark.parametrize("args,words", [
    (["../escape"], "must be letters, digits"),
    (["2026-03", "--title", "Line\nbreak"], "must not contain line breaks"),
])
def test_new_rejects_unsafe_names_and_titles_in_one_line(newsroom, tmp_path, args, words):
    result = digest(newsroom, "new", *args)
    assert result.exit_code == 1 and words in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "issues").exists() or list((tmp_path / "issues").iterdir()) == []


# --- digest add ---------------------------------------------------------------------

def test_add_writes_an_item_from_open_graph_tags_and_keeps_issue_toml_comments(newsroom, issue, website):
    url = website.add_page("/news/solar?utm=x", ARTICLE)
    website.add_page("/news/solar", ARTICLE)
    result = digest(newsroom, "add", str(issue), website.url("/news/solar?utm=x"), "--section", "News")
    assert result.exit_code == 0, result.output
    item_path = issue / "solar-roofs-for-every-school.md"
    assert result.output.strip() == str(item_path)
    item = load_issue(issue).sections[0].items[-1]
    assert item.path == item_path
    assert item.title == "Solar roofs for every school"
    assert item.link == website.url("/news/solar-roofs")
    assert item.image == "https://cdn.example.org/solar.jpg" and item.image_alt == "Panels on a school roof"
    assert item.body == "The city council agreed to put solar panels on all 40 schools by 2028."
    text = (issue / "issue.toml").read_text(encoding="utf-8")
    assert text == ISSUE_TOML.replace('    "one.md",   # the lead story\n', '    "one.md",   # the lead story\n    "solar-roofs-for-every-school.md",\n')
    assert url.endswith("utm=x")
    assert website.seen[-1].headers["User-Agent"].startswith("digest/")


def test_add_defaults_to_the_last_section_and_creates_a_named_one(newsroom, issue, website):
    website.add_page("/a", ARTICLE.replace("Solar roofs for every school", "First"))
    website.add_page("/b", ARTICLE.replace("Solar roofs for every school", "Second"))
    assert digest(newsroom, "add", str(issue), website.url("/a")).exit_code == 0
    assert digest(newsroom, "add", str(issue), website.url("/b"), "--section", "Publications").exit_code == 0
    sections = tomllib.loads((issue / "issue.toml").read_text(encoding="utf-8"))["sections"]
    assert [(s["title"], s["items"]) for s in sections] == [
        ("News", ["one.md"]), ("Events", ["two.md", "first.md"]), ("Publications", ["second.md"]),
    ]
    assert (issue / "issue.toml").read_text(encoding="utf-8").startswith(ISSUE_TOML.split("[[sections]]")[0])


def test_add_stores_hostile_page_text_as_inert_plain_text(newsroom, issue, website):
    website.add_page("/hostile", HOSTILE)
    result = digest(newsroom, "add", str(issue), website.url("/hostile"))
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    text = path.read_text(encoding="utf-8")
    front = text.removeprefix("+++\n").split("\n+++\n")[0]
    assert set(tomllib.loads(front)) == {"title", "link"}, front
    item = load_issue(issue).items[-1]
    assert "\n" not in item.title and "<script>" not in item.title and "alert" not in item.title
    assert item.title.startswith('Evil" draft = true +++')
    assert item.link == website.url("/hostile")
    assert not item.draft and item.image == ""
    rendered = __import__("digest.render.markdown", fromlist=["markdown_to_html"]).markdown_to_html(item.body)
    assert "<a " not in rendered and "<img" not in rendered and "<h1>" not in rendered
    assert "[click](javascript:alert(1))" in rendered
    assert [line for line in text.splitlines() if line == "+++"] == ["+++", "+++"]
    warnings = [f for f in check_issue(issue, load_settings(newsroom, environ={})) if f.path == path]
    assert [(f.severity, f.line, f.message.split(":")[0]) for f in warnings] == [("warning", 2, "title contains '{{'")]


def test_add_reads_a_huge_page_only_up_to_the_size_cap(newsroom, issue, website):
    head = ARTICLE.split("<body>")[0].encode() + b"<body>"
    website.add("/huge", body=head, stream_bytes=200_000_000)
    result = digest(newsroom, "add", str(issue), website.url("/huge"), env={"DIGEST_FETCH_MAX_BYTES": "100000"})
    assert result.exit_code == 0, result.output
    assert load_issue(issue).items[-1].title == "Solar roofs for every school"
    assert website.stream_done.wait(10)
    assert website.streamed < 100_000_000


def test_add_decodes_a_page_whose_header_names_an_unknown_charset(newsroom, issue, website):
    page = '<html><head><meta charset="windows-1252"><title>Caf\xe9 \x93quoted\x94</title></head></html>'.encode("latin-1")
    website.add("/latin", body=page, content_type="text/html; charset=klingon")
    result = digest(newsroom, "add", str(issue), website.url("/latin"))
    assert result.exit_code == 0, result.output
    assert load_issue(issue).items[-1].title == "Café \u201cquoted\u201d"


@pytest.mark.parametrize("route,url_path,words", [
    ({"status": 404, "body": b"gone"}, "/gone", "HTTP 404"),
    ({"status": 302, "headers": {"Location": "{base}/loop"}}, "/loop", "redirects (a redirect loop?)"),
    ({"body": b"\x89PNG", "content_type": "image/png"}, "/logo.png", "Content-Type is image/png, not text/html or application/xhtml+xml"),
    ({"body": ARTICLE.encode(), "delay": 3.0}, "/slow", "timed out after 0.5 s"),
    ({"body": ARTICLE.encode(), "drip": 0.05}, "/drip", "timed out after 0.5 s"),
], ids=["not-found", "redirect-loop", "not-html", "slow-to-answer", "dripping-body"])
def test_add_failure_is_one_line_naming_the_url_and_writes_nothing(newsroom, issue, website, route, url_path, words):
    website.add(url_path, **route)
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), website.url(url_path), env={"DIGEST_FETCH_TIMEOUT": "0.5"})
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {website.url(url_path)}: ") and words in lines[0]
    assert snapshot(issue) == before


def test_add_to_an_unreachable_server_is_one_line_and_writes_nothing(newsroom, issue):
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), "http://127.0.0.1:9/nothing")
    assert result.exit_code == 1 and "cannot connect" in result.output and len(result.output.strip().splitlines()) == 1
    assert snapshot(issue) == before


def test_add_to_a_broken_issue_toml_names_the_file_before_fetching(newsroom, issue, website):
    website.add_page("/article", ARTICLE)
    (issue / "issue.toml").write_text('title = "x"\nsections = [\n', encoding="utf-8")
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), website.url("/article"))
    assert result.exit_code == 1 and result.output.startswith(f"Error: {issue / 'issue.toml'}: invalid TOML")
    assert snapshot(issue) == before and website.seen == []


def test_a_failed_write_removes_the_item_files_already_written(issue):
    before = snapshot(issue)
    good = NewItem(title="Fine", link="https://example.org/fine")
    unencodable = NewItem(title="Bad \udc80 surrogate", link="https://example.org/bad")
    with pytest.raises(UnicodeEncodeError):
        write_items(issue, [good, unencodable], None)
    assert snapshot(issue) == before


def test_add_error_from_the_installed_command_has_no_traceback(newsroom, issue, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "digest", "--config", str(newsroom), "add", str(tmp_path / "nope"), "http://127.0.0.1:9/"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: {tmp_path / 'nope'}: not an issue folder (no such directory)"]


# --- digest pull --------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>City news</title><link>{base}/</link><description>News</description>
<item><title>Bike lanes &amp; buses</title><link>{base}/news/bikes</link>
  <description>&lt;p&gt;New &lt;b&gt;lanes&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description>
  <pubDate>Mon, 09 Feb 2026 10:00:00 +0000</pubDate></item>
<item><title>Already listed</title><link>https://example.org/one/</link><pubDate>Tue, 10 Feb 2026 10:00:00 +0000</pubDate></item>
<item><title>Old news</title><link>{base}/news/old</link><pubDate>Mon, 05 Jan 2026 10:00:00 +0000</pubDate></item>
<item><title>No date</title><link>{base}/news/undated</link></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Partner blog</title><id>urn:x</id><updated>2026-02-12T00:00:00Z</updated>
<entry><title type="html">Tree planting {{{{ member.name }}}}</title><link href="/blog/trees"/><id>urn:1</id>
  <updated>2026-02-12T08:00:00Z</updated><summary>Volunteers planted 500 trees.</summary></entry>
<entry><title>Bike lanes again</title><link href="{base}/news/bikes#top"/><id>urn:2</id><updated>2026-02-11T08:00:00Z</updated></entry>
</feed>
"""


@pytest.fixture
def two_issues(tmp_path, issue):
    """A January issue (the previous one) and a February issue to pull into."""
    february = tmp_path / "issues" / "2026-02"
    february.mkdir()
    (february / "issue.toml").write_text(ISSUE_TOML.replace("2026-01-31", "2026-02-27"), encoding="utf-8")
    for name in ("one.md", "two.md"):
        (february / name).write_bytes((issue / name).read_bytes())
    (tmp_path / "issues" / "2025-12").mkdir()
    (tmp_path / "issues" / "2025-12" / "issue.toml").write_text('date = 2025-12-20\n', encoding="utf-8")
    return february


def serve_feeds(website):
    website.add("/feed.rss", body=RSS.format(base=website.base).encode(), content_type="application/rss+xml")
    website.add("/feed.atom", body=ATOM.format(base=website.base).encode(), content_type="application/atom+xml")


def test_pull_adds_drafts_for_new_entries_since_the_previous_issue(newsroom, two_issues, website):
    serve_feeds(website)
    result = digest(newsroom, "pull", str(two_issues))
    assert result.exit_code == 0, result.output
    issue = load_issue(two_issues)
    pulled = issue.sections[-1].items[1:]
    assert [(i.title, i.link, i.date.isoformat(), i.draft) for i in pulled] == [
        ("Bike lanes & buses", website.url("/news/bikes"), "2026-02-09", True),
        ("Tree planting {{ member.name }}", website.url("/blog/trees"), "2026-02-12", True),
    ]
    assert pulled[0].body == "New lanes" and pulled[1].body == "Volunteers planted 500 trees."
    assert "2 draft item(s) from 2 feed(s) since 2026-01-31" in result.output
    assert "skipped 2 already in the issue, 1 older, 1 undated" in result.output
    again = digest(newsroom, "pull", str(two_issues))
    assert again.exit_code == 0 and "0 draft item(s)" in again.output
    assert len(load_issue(two_issues).items) == 4


def test_pull_into_the_first_issue_takes_every_entry(newsroom, tmp_path, website):
    serve_feeds(website)
    digest(newsroom, "new", "2025-01", "--date", "2025-01-31")
    result = digest(newsroom, "pull", str(tmp_path / "issues" / "2025-01"))
    assert result.exit_code == 0, result.output
    assert "5 draft item(s) from 2 feed(s) (no earlier issue: all entries)" in result.output


def test_pulled_drafts_are_warnings_naming_the_draft_line(newsroom, two_issues, website):
    serve_feeds(website)
    digest(newsroom, "pull", str(two_issues))
    findings = check_issue(two_issues, load_settings(newsroom, environ={}))
    drafts = [f for f in findings if "draft" in f.message]
    assert [(f.severity, f.path.name, f.line) for f in drafts] == [
        ("warning", "bike-lanes-buses.md", 5), ("warning", "tree-planting-member-name.md", 5),
    ]
    assert all(f.severity == "warning" for f in findings)


@pytest.mark.parametrize("route,words", [
    ({"status": 500, "body": b"oops"}, "HTTP 500"),
    ({"body": b"<html><body>not a feed</body></html>", "content_type": "text/html"}, "not an RSS or Atom feed"),
], ids=["server-error", "html-not-feed"])
def test_pull_with_a_broken_feed_is_one_line_and_writes_nothing(newsroom, two_issues, website, route, words):
    serve_feeds(website)
    website.add("/feed.atom", **route)
    before = snapshot(two_issues)
    result = digest(newsroom, "pull", str(two_issues))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {website.url('/feed.atom')}: ") and words in lines[0]
    assert snapshot(two_issues) == before


def test_pull_never_reads_a_local_file_named_by_the_feed_body(newsroom, two_issues, website, tmp_path):
    local_feed = tmp_path / "local-feed.xml"
    local_feed.write_text(RSS.format(base="https://local.example"), encoding="utf-8")
    serve_feeds(website)
    website.add("/feed.atom", body=str(local_feed).encode(), content_type="application/atom+xml")
    before = snapshot(two_issues)
    result = digest(newsroom, "pull", str(two_issues))
    assert result.exit_code == 1 and "not an RSS or Atom feed" in result.output
    assert snapshot(two_issues) == before


def test_pull_refuses_a_feed_over_the_size_cap(newsroom, two_issues, website):
    serve_feeds(website)
    before = snapshot(two_issues)
    result = digest(newsroom, "pull", str(two_issues), env={"DIGEST_FETCH_MAX_BYTES": "300"})
    assert result.exit_code == 1 and "feed is larger than 300 bytes" in result.output
    assert snapshot(two_issues) == before
