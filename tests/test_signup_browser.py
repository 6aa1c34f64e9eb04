"""A reader in Chromium, JavaScript off, against the app on loopback: fill in the form,
read the confirmation from the outbox, follow the link, press confirm, change language
on the preference page, get the next issue (sent from the members store) and unsubscribe
from its footer's link; in English and in Japanese."""
from __future__ import annotations

import email
import email.policy
import re
import shutil

import pytest
from click.testing import CliRunner

from digest.cli import cli

from .conftest import REPO, SEED_ISSUE
from .members_web import local, start

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which("chromium") is None,
                                reason="chromium is not installed (.ci/run installs Debian's chromium with apt-get)")

# The page headings a reader sees, per language.
HEADINGS = {
    "en": {"inbox": "Check your inbox", "confirm": "Confirm your subscription", "done": "You are subscribed",
           "prefs": "Your subscription to ICLEI Japan News"},
    "ja": {"inbox": "メールをご確認ください", "confirm": "購読の確認", "done": "購読が完了しました",
           "prefs": "ICLEI Japan News の配信設定"},
}
ISSUE_SUBJECTS = {"en": "ICLEI Japan News, October 2015 | イクレイ日本ニュース", "ja": "イクレイ日本ニュース 2015年10月号"}
UNSUBSCRIBED = {"en": "You are unsubscribed.", "ja": "配信を停止しました。"}


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.mark.parametrize("language, switch_to, name", [("en", "ja", "Aiko Tanaka"), ("ja", "en", "田中 愛子")])
def test_a_reader_subscribes_confirms_switches_language_and_unsubscribes_in_the_browser(
        browser, tmp_path, monkeypatch, language, switch_to, name):
    app, server = start(tmp_path, monkeypatch)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{app.origin}/subscribe?lang={language}")
        assert page.get_attribute("html", "lang") == language
        page.fill("#email", "aiko@example.org")
        page.fill("#name", name)
        page.select_option("#language", language)
        page.click("button[type=submit]")
        assert page.inner_text("h1") == HEADINGS[language]["inbox"]
        assert app.member("aiko@example.org").status == "pending"

        message = app.confirmation_email("aiko@example.org")
        assert message["Content-Type"].startswith("multipart/alternative")
        page.goto(app.origin + app.confirm_path("aiko@example.org"))
        assert page.inner_text("h1") == HEADINGS[language]["confirm"]
        assert app.member("aiko@example.org").status == "pending", "opening the link confirms nothing"
        page.click("button[type=submit]")
        assert page.inner_text("h1") == HEADINGS[language]["done"]
        assert app.member("aiko@example.org").status == "subscribed"

        page.click("main a")
        assert page.inner_text("h1") == HEADINGS[language]["prefs"]
        assert "?t=" in page.url and "aiko" not in page.url and "%40" not in page.url
        page.select_option("#language", switch_to)
        page.click("form:has(input[value=save]) button")
        assert page.get_attribute("html", "lang") == switch_to
        assert page.inner_text("h1") == HEADINGS[switch_to]["prefs"]
        member = app.member("aiko@example.org")
        assert (member.language, member.name) == (switch_to, name)

        issue_email = send_next_issue(app, "aiko@example.org")
        assert issue_email["To"].addresses[0].addr_spec == "aiko@example.org"
        assert issue_email["Content-Language"] == switch_to, "the next issue comes in the language chosen on the page"
        assert issue_email["Subject"] == ISSUE_SUBJECTS[switch_to]
        footer_link = re.search(r"https://\S+/preferences\?t=[A-Za-z0-9_-]+", issue_email.get_body(("plain",)).get_content())
        page.goto(app.origin + local(footer_link.group(0)))
        assert page.get_attribute("html", "lang") == switch_to, "the issue's footer leads to the page in the new language"
        page.click("form:has(input[value=unsubscribe]) button")
        assert UNSUBSCRIBED[switch_to] in page.inner_text("main")
        assert app.member("aiko@example.org").status == "unsubscribed"
        with app.ledger() as ledger:
            assert ledger.is_suppressed("aiko@example.org")
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def send_next_issue(app, address: str):
    """``digest send`` of the seed issue from the members store, into the app's outbox."""
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE), "--yes"],
                                env={"DIGEST_LEDGER_PATH": str(app.settings.path("ledger")), "DIGEST_OUTBOX_PATH": str(app.outbox)})
    assert result.exit_code == 0, result.output
    assert "1 member(s) to send" in result.output
    path = app.outbox / SEED_ISSUE.name / f"{address}.eml"
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_the_confirmation_email_renders_and_its_button_leads_to_the_confirm_page(browser, tmp_path, monkeypatch):
    from .members_web import Browser

    app, server = start(tmp_path, monkeypatch)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        Browser(app).subscribe("ben@example.org", "Ben", "en")
        html = app.confirmation_email("ben@example.org").get_body(("html",)).get_content()
        page.set_content(html)
        href = page.get_attribute("a:has-text('Confirm my subscription')", "href")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no sideways scroll on a phone"
        page.goto(app.origin + local(href))
        assert page.inner_text("h1") == "Confirm your subscription"
    finally:
        context.close()
        server.shutdown()
        server.server_close()
