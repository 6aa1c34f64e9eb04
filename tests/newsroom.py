"""The editor's newsroom for tests of the composing commands: a config whose issues
live in a temporary folder and whose feeds are on the loopback web site, an issue to
compose into, the pages and feeds the site serves, and how to run the CLI on them."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from digest.cli import cli

from .conftest import REPO


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



def write_config(tmp_path: Path, website, extra: str = "") -> Path:
    """A config.toml whose issues live in tmp_path/issues and whose feeds are on the test server."""
    config = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('issues = "issues"', f'issues = "{tmp_path / "issues"}"').replace('templates = "templates"', f'templates = "{REPO / "templates"}"')
    feeds = extra or f'urls = ["{website.url("/feed.rss")}", "{website.url("/feed.atom")}"]'
    config.write_text(text + f'\n[feeds]\n{feeds}\n\n[fetch]\ntimeout = 2.0\n', encoding="utf-8")
    return config


def write_issue(folder: Path, issue_toml: str = ISSUE_TOML) -> Path:
    folder.mkdir(parents=True)
    (folder / "issue.toml").write_text(issue_toml, encoding="utf-8")
    (folder / "one.md").write_text(ITEM.format(title="One", link="https://example.org/one"), encoding="utf-8")
    (folder / "two.md").write_text(ITEM.format(title="Two", link="https://example.org/two"), encoding="utf-8")
    return folder


def digest(config: Path, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


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


def serve_feeds(website):
    website.add("/feed.rss", body=RSS.format(base=website.base).encode(), content_type="application/rss+xml")
    website.add("/feed.atom", body=ATOM.format(base=website.base).encode(), content_type="application/atom+xml")
