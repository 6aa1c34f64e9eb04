"""`digest pull` against feeds on a real loopback server: drafts for new entries since
the previous issue, at most [feeds] max_new a feed, each feed's in its own section, and
broken or cut-short feeds refused with nothing written."""
from __future__ import annotations

import datetime as dt
import tomllib
from email.utils import format_datetime

import pytest

from digest.checks.preflight import check_issue
from digest.config import load_settings
from digest.content import load_issue

from .newsroom import RSS, digest, serve_feeds, snapshot, write_config


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
    assert result.stdout.splitlines() == [
        f"{two_issues / 'bike-lanes-buses.md'}  Bike lanes & buses  [Events]",
        f"{two_issues / 'tree-planting-member-name.md'}  Tree planting {{{{ member.name }}}}  [Events]",
    ]
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


TRUNCATED = b'<rss version="2.0"><channel><item><title>Half'
MISMATCHED = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Partner blog</title>
<entry><title>Fine</title><link href="/blog/fine"/><updated>2026-02-12T08:00:00Z</updated></entry>
<entry><title>Broken</titel><link href="/blog/broken"/></entry>
</feed>
"""
ENTITY = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
<item><title>Caf&eacute;</title><link>https://example.org/cafe</link></item></channel></rss>
"""


@pytest.mark.parametrize("body,words", [
    (TRUNCATED, "the feed is not well-formed XML (no element found at line 1): broken or cut short; nothing was pulled"),
    (MISMATCHED, "the feed is not well-formed XML (mismatched tag at line 4): broken or cut short; nothing was pulled"),
    (ENTITY, "the feed is not well-formed XML (undefined entity at line 2): broken or cut short; nothing was pulled"),
    (TRUNCATED[:20], "the feed is not well-formed XML (unclosed token at line 1)"),
], ids=["truncated-rss", "mismatched-atom", "undefined-entity", "cut-in-the-first-tag"])
def test_a_malformed_or_truncated_feed_is_one_line_naming_it_and_nothing_is_written(newsroom, two_issues, website, body, words):
    serve_feeds(website)  # the RSS feed alone would add drafts
    website.add("/feed.atom", body=body, content_type="application/atom+xml")
    before = snapshot(two_issues)
    result = digest(newsroom, "pull", str(two_issues))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {website.url('/feed.atom')}: ") and words in lines[0], lines
    assert snapshot(two_issues) == before


def many_entries(base: str, count: int) -> bytes:
    """A feed of ``count`` stories (not a multiple of 7), story N published N days after
    2025-11-01, in a shuffled order."""
    order = [(7 * k) % count for k in range(count)]
    items = "".join(f"<item><title>Story {n}</title><link>{base}/story/{n}</link><pubDate>"
                    f"{format_datetime(dt.datetime(2025, 11, 1, 10, tzinfo=dt.timezone.utc) + dt.timedelta(days=n))}</pubDate></item>"
                    for n in order)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Busy</title>{items}</channel></rss>'.encode()


def test_pull_takes_the_newest_max_new_entries_of_a_feed_and_counts_the_rest(newsroom, tmp_path, website):
    website.add("/feed.rss", body=many_entries(website.base, 45), content_type="application/rss+xml")
    website.add("/feed.atom", body=b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title></feed>', content_type="application/atom+xml")
    digest(newsroom, "new", "2026-01")
    result = digest(newsroom, "pull", "2026-01")
    assert result.exit_code == 0, result.output
    titles = [item.title for item in load_issue(tmp_path / "issues" / "2026-01").items[1:]]
    assert titles == [f"Story {n}" for n in [(7 * k) % 45 for k in range(45)] if n >= 25]  # the newest 20, in feed order
    assert "20 draft item(s) from 2 feed(s)" in result.stderr
    assert "left out 25 older over [feeds] max_new = 20 a feed" in result.stderr


def test_max_new_can_be_changed_in_the_environment(newsroom, tmp_path, website):
    website.add("/feed.rss", body=many_entries(website.base, 8), content_type="application/rss+xml")
    website.add("/feed.atom", body=b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Quiet</title></feed>', content_type="application/atom+xml")
    digest(newsroom, "new", "2026-01")
    result = digest(newsroom, "pull", "2026-01", env={"DIGEST_FEEDS_MAX_NEW": "3"})
    assert "3 draft item(s)" in result.stderr and "left out 5 older" in result.stderr


def test_each_feed_pulls_into_the_section_config_names_for_it(tmp_path, two_issues, website):
    serve_feeds(website)
    feeds = f'urls = ["{website.url("/feed.rss")}", {{ url = "{website.url("/feed.atom")}", section = "Partners" }}]'
    config = write_config(tmp_path, website, feeds)
    result = digest(config, "pull", str(two_issues))
    assert result.exit_code == 0, result.output
    assert f"{two_issues / 'tree-planting-member-name.md'}  Tree planting {{{{ member.name }}}}  [Partners, new]" in result.stdout
    sections = tomllib.loads((two_issues / "issue.toml").read_text(encoding="utf-8"))["sections"]
    assert [(s["title"], s["items"]) for s in sections] == [
        ("News", ["one.md"]), ("Events", ["two.md", "bike-lanes-buses.md"]), ("Partners", ["tree-planting-member-name.md"]),
    ]


def test_a_feed_entry_that_is_neither_url_nor_table_is_a_config_error(tmp_path, two_issues, website):
    config = write_config(tmp_path, website, 'urls = [{ link = "https://example.org/feed" }]')
    result = digest(config, "pull", str(two_issues))
    assert result.exit_code == 1 and "[feeds] urls: each feed is a URL or" in result.output


def test_pull_refuses_an_unknown_section_unless_asked_to_create_it(newsroom, two_issues, website):
    serve_feeds(website)
    refused = digest(newsroom, "pull", str(two_issues), "--section", "Event")
    assert refused.exit_code == 1 and "(did you mean 'Events'?)" in refused.output and website.seen == []
    created = digest(newsroom, "pull", str(two_issues), "--section", "Feeds", "--new-section")
    assert created.exit_code == 0, created.output
    assert [s.title for s in load_issue(two_issues).sections] == ["News", "Events", "Feeds"]


def test_placeholder_shaped_feed_entries_stay_text_in_the_built_issue(newsroom, two_issues, website, tmp_path):
    feed = RSS.format(base=website.base).replace("Bike lanes &amp; buses", "__digest_slot_0__ __digest_slot_999__")
    feed = feed.replace("&lt;p&gt;New", "&lt;p&gt;%recipient.h0% New")
    serve_feeds(website)
    website.add("/feed.rss", body=feed.encode(), content_type="application/rss+xml")
    assert digest(newsroom, "pull", str(two_issues)).exit_code == 0
    assert digest(newsroom, "item", "undraft", str(two_issues), "--all").exit_code == 0
    built = digest(newsroom, "build", str(two_issues), "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    for name in ("email.html", "email.txt", "index.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "__digest_slot_0__ __digest_slot_999__" in text and "%recipient.h0% New" in text, name
        assert "token=" not in text.split("__digest_slot_0__")[1][:200], name
