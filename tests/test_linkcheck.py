"""`digest check --links` asks a real loopback server for every link and image and
names the file and line of each broken one."""
from __future__ import annotations

import time

from click.testing import CliRunner

from digest.checks.preflight import check_issue
from digest.cli import cli
from digest.config import load_settings

from .conftest import MINIMAL_ISSUE_TOML, REPO


FAST = {"DIGEST_LINKCHECK_TIMEOUT": "0.3"}


def item(link: str, image: str = "") -> str:
    picture = f'image = "{image}"\nimage_alt = "A picture"\n' if image else ""
    return f'+++\ntitle = "An item"\nlink = "{link}"\n{picture}+++\nBody.\n'


def links_issue(make_issue, website):
    website.add_page("/ok", "<p>fine</p>")
    website.add_page("/moved", "", status=301, headers={"Location": "{base}/ok"})
    website.add_page("/no-head", "<p>GET only</p>", head_status=405)
    website.add("/server-error", status=500, body=b"oops")
    website.add("/slow", body=b"late", delay=2.0)
    names = ["ok.md", "missing.md", "broken.md", "slow.md", "redirect.md", "no-head.md", "gone.md"]
    files = {
        "issue.toml": MINIMAL_ISSUE_TOML.replace('["one.md"]', str(names).replace("'", '"')),
        "one.md": None,
        "ok.md": item(website.url("/ok")),
        "missing.md": item(website.url("/ok"), image=website.url("/missing.png")),
        "broken.md": item(website.url("/server-error")),
        "slow.md": item(website.url("/slow")),
        "redirect.md": item(website.url("/moved")),
        "no-head.md": item(website.url("/no-head")),
        "gone.md": item(website.url("/gone")),
    }
    return make_issue(files)


def test_check_links_reports_each_broken_link_at_its_file_and_line(make_issue, website):
    folder = links_issue(make_issue, website)
    settings = load_settings(REPO / "config.toml", environ=FAST)
    broken = [(f.path.name, f.line, f.message) for f in check_issue(folder, settings, links=True) if "broken" in f.message]
    assert sorted(broken) == sorted([
        ("missing.md", 4, f"image {website.url('/missing.png')} is broken: HTTP 404"),
        ("broken.md", 3, f"link {website.url('/server-error')} is broken: HTTP 500"),
        ("slow.md", 3, f"link {website.url('/slow')} is broken: no answer within 0.3 s"),
        ("gone.md", 3, f"link {website.url('/gone')} is broken: HTTP 404"),
    ])
    methods = {(s.method, s.path) for s in website.seen}
    assert ("HEAD", "/ok") in methods and ("GET", "/ok") not in methods
    assert ("HEAD", "/no-head") in methods and ("GET", "/no-head") in methods
    assert all(s.headers["User-Agent"].startswith("digest/") for s in website.seen)


def test_check_without_links_makes_no_requests(make_issue, website, settings):
    folder = links_issue(make_issue, website)
    findings = check_issue(folder, settings)
    assert website.seen == []
    assert not any("broken" in f.message for f in findings)


def test_check_links_cli_exits_1_and_prints_path_and_line(make_issue, website):
    website.add_page("/ok", "<p>fine</p>")
    folder = make_issue({"one.md": item(website.url("/nowhere"))})
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "check", str(folder), "--links"], env=FAST)
    assert result.exit_code == 1
    assert f"{folder / 'one.md'}:3: error: link {website.url('/nowhere')} is broken: HTTP 404" in result.output
    healthy = make_issue({"one.md": item(website.url("/ok"))}, name="healthy")
    ok = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "check", str(healthy), "--links", "--no-spamassassin"], env=FAST)
    assert ok.exit_code == 0 and ok.stdout.strip() == f"{healthy}: ok"


def test_links_written_in_item_bodies_are_checked_at_their_body_line(make_issue, website):
    website.add_page("/ok", "<p>fine</p>")
    body = f"Intro.\n\nSee [the report]({website.url('/report-gone')}) and [the page]({website.url('/ok')}).\n\n![Chart]({website.url('/chart.png')})\n"
    folder = make_issue({"one.md": f'+++\ntitle = "An item"\nlink = "{website.url("/ok")}"\n+++\n\n{body}'})
    settings = load_settings(REPO / "config.toml", environ=FAST)
    broken = [(f.line, f.message) for f in check_issue(folder, settings, links=True) if "broken" in f.message]
    assert broken == [
        (8, f"body link {website.url('/report-gone')} is broken: HTTP 404"),
        (10, f"body image {website.url('/chart.png')} is broken: HTTP 404"),
    ]


def test_check_links_reports_progress_as_each_link_answers(make_issue, website):
    folder = links_issue(make_issue, website)
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "check", str(folder), "--links", "--no-spamassassin"], env=FAST)
    progress = [line for line in result.stderr.splitlines() if line.startswith("links:")]
    assert progress == [f"links: {done} of 7 checked" for done in range(1, 8)]


def test_check_links_stops_at_the_total_timeout_while_headers_drip(make_issue, website):
    website.add("/header-drip", body=b"late", header_drip=0.05)  # ~15 s of headers
    website.add_page("/ok", "<p>fine</p>")
    folder = make_issue({"one.md": item(website.url("/header-drip"), image=website.url("/ok"))})
    settings = load_settings(REPO / "config.toml", environ={"DIGEST_LINKCHECK_TIMEOUT": "1"})
    started = time.monotonic()
    findings = check_issue(folder, settings, links=True)
    assert time.monotonic() - started < 1 + 3.0  # the total per link, plus a margin for a busy machine
    broken = [(f.line, f.message) for f in findings if "broken" in f.message]
    assert broken == [(3, f"link {website.url('/header-drip')} is broken: no answer within 1 s")]
