"""`digest add` stops an editor's usual slips before they land in the issue: a mistyped
section, a page added twice, a URL without its scheme, an image with no description,
and takes an issue by its name as well as by its path."""
from __future__ import annotations

import pytest

from digest.checks.preflight import check_issue
from digest.config import load_settings

from .newsroom import ARTICLE, digest, snapshot


def test_an_unknown_section_is_refused_with_the_closest_title_before_fetching(newsroom, issue, website):
    website.add_page("/news", ARTICLE)
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), website.url("/news"), "--section", "Event")
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {issue / 'issue.toml'}: no section 'Event' (did you mean 'Events'?); "
                                     "the sections are 'News', 'Events'; add --new-section to create it")
    assert snapshot(issue) == before and website.seen == []


def test_a_section_in_other_letter_case_is_suggested(newsroom, issue, website):
    result = digest(newsroom, "add", str(issue), website.url("/news"), "--section", "events")
    assert result.exit_code == 1 and "(did you mean 'Events'?)" in result.output


def test_new_section_without_a_section_title_is_a_usage_error(newsroom, issue, website):
    result = digest(newsroom, "add", str(issue), website.url("/news"), "--new-section")
    assert result.exit_code == 2 and "--new-section needs --section" in result.output


def test_a_link_the_issue_has_is_refused_naming_the_item_and_line(newsroom, issue, website):
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), "https://EXAMPLE.org/one/#top")
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: {issue / 'one.md'}:3: already has the link https://EXAMPLE.org/one/#top; "
                                     "add --force to add it again")
    assert snapshot(issue) == before


def test_a_page_whose_canonical_link_the_issue_has_is_refused_after_fetching(newsroom, issue, website):
    website.add_page("/news/solar-roofs", ARTICLE)
    website.add_page("/share", ARTICLE)
    assert digest(newsroom, "add", str(issue), website.url("/news/solar-roofs")).exit_code == 0
    before = snapshot(issue)
    again = digest(newsroom, "add", str(issue), website.url("/share?id=1"))
    assert again.exit_code == 1 and f"solar-roofs-for-every-school.md:3: already has the link {website.url('/news/solar-roofs')};" in again.output
    assert snapshot(issue) == before
    forced = digest(newsroom, "add", str(issue), website.url("/share?id=1"), "--force")
    assert forced.exit_code == 0, forced.output
    assert (issue / "solar-roofs-for-every-school-2.md").is_file()


def test_an_image_without_alt_text_is_flagged_at_once_and_by_check(newsroom, issue, website):
    website.add_page("/no-alt", ARTICLE.replace('<meta property="og:image:alt" content="Panels on a school roof">\n', ""))
    result = digest(newsroom, "add", str(issue), website.url("/no-alt"))
    assert result.exit_code == 0, result.output
    path = issue / "solar-roofs-for-every-school.md"
    assert f"warning: {path}: the page gives no text for its image (og:image:alt)" in result.stderr
    assert '# image_alt = ""  describe the image' in path.read_text(encoding="utf-8")
    findings = check_issue(issue, load_settings(newsroom, environ={}))
    assert [(f.severity, f.path.name, f.line) for f in findings if "image_alt" in f.message] == [("error", path.name, 4)]


def test_a_page_without_an_image_says_so(newsroom, issue, website):
    website.add_page("/plain", "<html><head><title>Plain page</title></head><body>Text</body></html>")
    result = digest(newsroom, "add", str(issue), website.url("/plain"))
    assert result.exit_code == 0 and "  image:   none (the page names no og:image)" in result.stdout


@pytest.mark.parametrize("url", ["example.org/news/solar", "www.example.org"])
def test_a_url_without_a_scheme_gets_https_suggested(newsroom, issue, url):
    before = snapshot(issue)
    result = digest(newsroom, "add", str(issue), url)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {url}: not a valid URL: no http:// or https:// (did you mean https://{url}?)"
    assert snapshot(issue) == before


@pytest.mark.parametrize("command", [["add", "2026-01", "{url}"], ["pull", "2026-01"], ["check", "2026-01"],
                                     ["build", "2026-01"], ["status", "2026-01"], ["item", "rm", "2026-01", "two"]])
def test_every_command_takes_an_issue_by_its_name(newsroom, issue, website, tmp_path, monkeypatch, command):
    from .newsroom import serve_feeds

    serve_feeds(website)
    website.add_page("/news", ARTICLE)
    monkeypatch.chdir(tmp_path.parent)
    monkeypatch.setenv("DIGEST_PATHS_BUILD", str(tmp_path / "build"))
    monkeypatch.setenv("DIGEST_LEDGER_PATH", str(tmp_path / "ledger.sqlite"))
    result = digest(newsroom, *[part.format(url=website.url("/news")) for part in command])
    assert result.exit_code == 0, result.output
    assert "not an issue folder" not in result.output


def test_a_name_that_is_no_issue_is_reported_as_given(newsroom, issue):
    result = digest(newsroom, "build", "2026-13")
    assert result.exit_code == 1 and result.output.strip() == "Error: 2026-13: not an issue folder (no such directory)"



def test_a_section_differing_only_in_case_and_length_is_suggested(newsroom, issue, website):
    result = digest(newsroom, "add", str(issue), website.url("/news"), "--section", "news!")
    assert result.exit_code == 1 and "(did you mean 'News'?)" in result.output
