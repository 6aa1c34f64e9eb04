"""Composing an issue: `digest new` and `digest add URL` against a real HTTP server on
loopback, including hostile pages and servers that drip, loop or never stop."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from digest.checks.preflight import check_issue
from digest.sources.compose import NewItem, write_items
from digest.config import load_settings
from digest.content import load_issue

from .newsroom import ARTICLE, HOSTILE, ISSUE_TOML, digest, snapshot


# --- digest new ---------------------------------------------------------------------

def test_new_scaffolds_an_issue_whose_only_finding_is_its_example_item(newsroom, tmp_path):
    result = digest(newsroom, "new", "2026-02", "--title", "February news", "--date", "2026-02-27")
    folder = tmp_path / "issues" / "2026-02"
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(folder)
    assert {p.name for p in folder.iterdir()} == {"issue.toml", "example-item.md"}
    issue = load_issue(folder)
    assert (issue.title, issue.date.isoformat(), issue.subject) == ("February news", "2026-02-27", "February news, February 2026")
    findings = check_issue(folder, load_settings(newsroom, environ={}))
    assert [(f.severity, f.path.name, f.line) for f in findings] == [("error", "example-item.md", 2)]
    assert f"digest item rm {folder} example-item.md" in findings[0].message


def test_the_example_item_is_an_error_until_rewritten_or_removed(newsroom, tmp_path, website):
    folder = tmp_path / "issues" / "2026-02"
    digest(newsroom, "new", "2026-02")
    assert digest(newsroom, "check", "2026-02").exit_code == 1
    example = folder / "example-item.md"
    example.write_text(example.read_text(encoding="utf-8").replace("An example item: replace it", "Solar roofs"), encoding="utf-8")
    still = digest(newsroom, "check", "2026-02")
    assert still.exit_code == 1 and f"{example}:5: error: the example item" in still.output
    website.add_page("/news", ARTICLE)
    assert digest(newsroom, "add", "2026-02", website.url("/news")).exit_code == 0
    assert digest(newsroom, "item", "rm", "2026-02", "example-item").exit_code == 0
    assert digest(newsroom, "check", "2026-02").exit_code == 0


@pytest.mark.parametrize("slug,date", [("2026-02", "2026-02-28"), ("2024-02", "2024-02-29"), ("2026-12-special", "2026-12-31")])
def test_new_without_a_date_dates_a_month_issue_on_its_last_day(newsroom, tmp_path, slug, date):
    result = digest(newsroom, "new", slug)
    assert result.exit_code == 0, result.output
    assert load_issue(tmp_path / "issues" / slug).date.isoformat() == date
    assert f"dated {date}" in result.stderr


def test_new_without_a_date_dates_another_name_today(newsroom, tmp_path):
    assert digest(newsroom, "new", "spring-special").exit_code == 0
    assert load_issue(tmp_path / "issues" / "spring-special").date == dt.date.today()


def test_new_refuses_to_overwrite_an_existing_issue(newsroom, issue):
    before = snapshot(issue)
    result = digest(newsroom, "new", "2026-01")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {issue}: already exists; not overwriting it"
    assert snapshot(issue) == before


def test_new_without_a_date_takes_the_month_a_month_slug_names(newsroom, tmp_path):
    assert digest(newsroom, "new", "2031-03").exit_code == 0
    issue = load_issue(tmp_path / "issues" / "2031-03")
    assert (issue.date.isoformat(), issue.subject) == ("2031-03-31", "ICLEI Japan News, March 2031")


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
    assert result.stdout.splitlines() == [
        str(item_path),
        "  title:   Solar roofs for every school",
        "  section: News",
        "  image:   https://cdn.example.org/solar.jpg",
    ]
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


def test_add_defaults_to_the_last_section_and_creates_one_only_when_asked(newsroom, issue, website):
    website.add_page("/a", ARTICLE.replace("Solar roofs for every school", "First").replace("/news/solar-roofs", "/a"))
    website.add_page("/b", ARTICLE.replace("Solar roofs for every school", "Second").replace("/news/solar-roofs", "/b"))
    assert digest(newsroom, "add", str(issue), website.url("/a")).exit_code == 0
    created = digest(newsroom, "add", str(issue), website.url("/b"), "--section", "Publications", "--new-section")
    assert created.exit_code == 0 and "  section: Publications (new)" in created.stdout
    sections = tomllib.loads((issue / "issue.toml").read_text(encoding="utf-8"))["sections"]
    assert [(s["title"], s["items"]) for s in sections] == [
        ("News", ["one.md"]), ("Events", ["two.md", "first.md"]), ("Publications", ["second.md"]),
    ]
    assert (issue / "issue.toml").read_text(encoding="utf-8").startswith(ISSUE_TOML.split("[[sections]]")[0])


def test_add_stores_hostile_page_text_as_inert_plain_text(newsroom, issue, website):
    website.add_page("/hostile", HOSTILE)
    result = digest(newsroom, "add", str(issue), website.url("/hostile"))
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.splitlines()[0])
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


# A deadline test may overrun its configured total by this much on a busy machine, no more.
MARGIN = 3.0


def test_add_stops_at_its_total_timeout_while_headers_drip(newsroom, issue, website):
    website.add("/header-drip", body=ARTICLE.encode(), header_drip=0.05)  # ~15 s of headers
    before = snapshot(issue)
    started = time.monotonic()
    result = digest(newsroom, "add", str(issue), website.url("/header-drip"), env={"DIGEST_FETCH_TIMEOUT": "1"})
    assert time.monotonic() - started < 1 + MARGIN
    assert result.exit_code == 1 and result.output.strip() == f"Error: {website.url('/header-drip')}: timed out after 1 s"
    assert snapshot(issue) == before


def test_add_reads_open_graph_tags_of_a_megabyte_of_unclosed_tags_in_seconds(newsroom, issue, website):
    website.add_page("/tags", ARTICLE + "</" * 500_000)
    started = time.monotonic()
    result = digest(newsroom, "add", str(issue), website.url("/tags"))
    assert time.monotonic() - started < 5
    assert result.exit_code == 0, result.output
    assert load_issue(issue).items[-1].title == "Solar roofs for every school"


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
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {issue / 'issue.toml'}:2: invalid TOML: the list sections is never closed: add ] after its last value"
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
