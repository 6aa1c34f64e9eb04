"""The members' app over real HTTP on loopback: sign-up with double opt-in, the
confirmation email in the outbox, link tokens that expire and work once, and the
preference centre; every answer with the same safe headers."""
from __future__ import annotations

import re
import time

import pytest
import requests
from click.testing import CliRunner

from digest.cli import cli
from digest.render.mime import MessageFactory
from digest.site.archive import build_archive

from .conftest import REPO
from .members_web import Browser, heading, hidden_fields, local, start


@pytest.fixture
def app(tmp_path, monkeypatch):
    running, server = start(tmp_path, monkeypatch)
    yield running
    server.shutdown()
    server.server_close()


def assert_safe_headers(response: requests.Response) -> None:
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in response.text


def test_subscribe_form_has_the_named_fields_a_honeypot_and_safe_headers(app):
    page = Browser(app).get("/subscribe")
    assert page.status_code == 200
    assert_safe_headers(page)
    for field in ("email", "name", "language", "csrf", "website"):
        assert f'name="{field}"' in page.text
    assert re.search(r'<form method="post" action="/subscribe">', page.text)
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("language, subject, greeting", [("en", "Confirm your subscription to ICLEI Japan News", "Dear Aiko,"),
                                                         ("ja", "ICLEI Japan News 購読のご確認", "Aiko 様")])
def test_sign_up_stores_a_pending_member_and_mails_one_confirmation_in_their_language(app, language, subject, greeting):
    answer = Browser(app).subscribe("Aiko@Example.org", "Aiko", language)
    assert answer.status_code == 200 and answer.headers["Content-Language"] == language
    member = app.member("aiko@example.org")
    assert (member.status, member.name, member.language, member.address) == ("pending", "Aiko", language, "Aiko@example.org")
    message = app.confirmation_email("Aiko@example.org")
    assert message["Subject"] == subject and message["To"] == "Aiko <Aiko@example.org>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert greeting in text and f'lang="{language}"' in html
    link = re.search(r"https://news\.iclei-japan\.example\.org/confirm\?t=[A-Za-z0-9_-]+", text).group(0)
    assert link in html.replace("&amp;", "&")
    assert "aiko" not in link.lower() and "%40" not in link, "no address in the link, plain or encoded"
    assert app.confirmations("aiko@example.org") == 1


def test_the_answer_is_the_same_whether_the_address_is_new_pending_subscribed_unsubscribed_or_forgotten(app):
    browser = Browser(app)
    browser.subscribe("pending@example.org")
    browser.subscribe("member@example.org")
    browser.confirm("member@example.org")
    with app.ledger() as ledger:
        ledger.suppress("gone@example.org", "unsubscribe", "web")
        ledger.forget("erased@example.org")

    def answer(address: str) -> tuple[int, str]:
        response = Browser(app).subscribe(address)
        body = re.sub(r'nonce-[^"\']+|nonce="[^"]+"', "", response.text).replace(address, "ADDRESS")
        return response.status_code, body

    answers = {answer(a) for a in ("new@example.org", "pending@example.org", "member@example.org", "gone@example.org",
                                   "erased@example.org")}
    assert len(answers) == 1 and next(iter(answers))[0] == 200
    assert app.member("gone@example.org").status == "unsubscribed", "a sign-up alone never resubscribes"
    assert app.member("erased@example.org") is None and app.confirmations("erased@example.org") == 0


def test_get_on_the_confirmation_link_shows_a_button_and_confirms_nothing(app):
    browser = Browser(app)
    browser.subscribe("aiko@example.org")
    for _ in range(3):
        page = Browser(app).get(app.confirm_path("aiko@example.org"))
        assert page.status_code == 200 and heading(page.text) == "Confirm your subscription"
        assert '<form method="post" action="/confirm">' in page.text and "<button" in page.text
        assert_safe_headers(page)
    assert app.member("aiko@example.org").status == "pending"


def test_the_button_subscribes_with_a_consent_record_and_the_link_then_gets_410(app):
    browser = Browser(app, source="127.0.0.9")
    browser.subscribe("aiko@example.org", "Aiko", "ja")
    page = browser.get(app.confirm_path("aiko@example.org"))
    confirmed = browser.submit(page, "/confirm")
    assert confirmed.status_code == 200 and heading(confirmed.text) == "購読が完了しました"
    member = app.member("aiko@example.org")
    assert member.status == "subscribed"
    assert (member.consent.method, member.consent.network) == ("form", "127.0.0.0/24")
    again = browser.submit(page, "/confirm")
    assert again.status_code == 410 and heading(again.text) == "このリンクは使用済みです"
    assert 'href="/subscribe?lang=ja"' in again.text, "says what to do"
    assert Browser(app).get(app.confirm_path("aiko@example.org")).status_code == 410


def test_an_expired_link_gets_410_and_confirms_nothing(tmp_path, monkeypatch):
    app, server = start(tmp_path, monkeypatch, web_confirm_hours=0.0005)  # 1.8 seconds
    try:
        browser = Browser(app)
        browser.subscribe("aiko@example.org")
        link = app.confirm_path("aiko@example.org")
        form_token = hidden_fields(browser.get("/subscribe").text)["csrf"]
        time.sleep(3.1)  # past the expiry, which the store keeps to the second
        refused = browser.post("/confirm", {"t": link.split("t=")[1], "csrf": form_token})
        assert refused.status_code == 410 and heading(refused.text) == "This link has expired"
        assert 'href="/subscribe?lang=en"' in refused.text, "says what to do"
        assert Browser(app).get(link).status_code == 410
        assert app.member("aiko@example.org").status == "pending"
    finally:
        server.shutdown()
        server.server_close()


def _flip(token: str) -> str:
    return token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]


FORGERIES = {
    "altered": lambda app, browser: "/confirm?t=" + _flip(app.confirm_path("aiko@example.org").split("t=")[1]),
    "made up": lambda app, browser: "/confirm?t=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
    "empty": lambda app, browser: "/confirm?t=",
    "missing": lambda app, browser: "/confirm",
    "a preferences token": lambda app, browser: "/confirm?t=" + re.search(
        r"/preferences\?t=([^&\"]+)", browser.confirm("other@example.org").text).group(1),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_confirmation_token_gets_400_and_changes_nothing(app, case):
    browser = Browser(app)
    browser.subscribe("aiko@example.org")
    browser.subscribe("other@example.org")
    path = FORGERIES[case](app, browser)
    page = browser.get(path)
    assert page.status_code == 400 and heading(page.text) == "This link does not work"
    assert_safe_headers(page)
    token = path.split("t=")[1] if "t=" in path else ""
    posted = browser.post("/confirm", {"t": token, "csrf": hidden_fields(browser.get("/subscribe").text)["csrf"]})
    assert posted.status_code == 400
    assert app.member("aiko@example.org").status == "pending"


def test_a_post_without_this_browsers_form_token_stores_and_sends_nothing(app):
    fields = {"email": "aiko@example.org", "name": "Aiko", "language": "en", "website": ""}
    no_token = requests.post(app.origin + "/subscribe", data=fields, timeout=10)
    assert no_token.status_code == 200 and heading(no_token.text) == "Subscribe to ICLEI Japan News"
    assert 'value="aiko@example.org"' in no_token.text, "the form comes back filled in, to be submitted from here"
    other_browser = hidden_fields(Browser(app).get("/subscribe").text)["csrf"]
    assert Browser(app).post("/subscribe", {**fields, "csrf": other_browser}).status_code == 403
    browser = Browser(app)
    token = hidden_fields(browser.get("/subscribe").text)["csrf"]
    cross_site = browser.post("/subscribe", {**fields, "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert app.member("aiko@example.org") is None and not (app.outbox / "_confirmations").exists()


def test_the_archive_index_snippet_leads_to_the_apps_filled_in_form(app, tmp_path):
    site = build_archive(app.settings, tmp_path / "site")
    index = (site.out_dir / "index.html").read_text(encoding="utf-8")
    form = re.search(r'<form class="subscribe" method="post" action="([^"]+)">(.*?)</form>', index, re.S)
    assert form.group(1) == "https://news.iclei-japan.example.org/subscribe"
    assert 'name="email"' in form.group(2) and 'name="language" value="en"' in form.group(2)
    browser = Browser(app)
    shown = browser.post(local(form.group(1)), {"email": "reader@example.org", "language": "en"})
    assert shown.status_code == 200 and 'value="reader@example.org"' in shown.text
    done = browser.submit(shown, "/subscribe", email="reader@example.org", language="en", website="")
    assert heading(done.text) == "Check your inbox" and app.member("reader@example.org").status == "pending"


def preferences_path(browser: Browser, app, address: str) -> str:
    confirmed = browser.confirm(address)
    return re.search(r'href="(/preferences\?t=[^"]+)"', confirmed.text).group(1).replace("&amp;", "&")


def test_preferences_change_name_and_language_and_the_page_then_speaks_it(app):
    browser = Browser(app)
    browser.subscribe("aiko@example.org", "Aiko", "en")
    path = preferences_path(browser, app, "aiko@example.org")
    page = browser.get(path)
    assert page.status_code == 200 and page.headers["Content-Language"] == "en"
    assert_safe_headers(page)
    saved = browser.post("/preferences", {**hidden_fields(page.text), "action": "save", "name": "田中 愛子", "language": "ja"},
                         allow_redirects=False)
    assert saved.status_code == 303 and saved.headers["Location"].startswith("/preferences?t=")
    after = browser.get(saved.headers["Location"])
    assert after.headers["Content-Language"] == "ja" and '<html lang="ja" dir="ltr">' in after.text
    assert "保存しました。" in after.text and 'value="田中 愛子"' in after.text
    with app.ledger() as ledger:
        [member] = list(ledger.iter_subscribed())
    assert (member.name, member.language) == ("田中 愛子", "ja")


def test_unsubscribing_from_preferences_then_resubscribing_needs_a_fresh_confirmation(tmp_path, monkeypatch):
    app, server = start(tmp_path, monkeypatch, web_confirmation_interval=0)
    try:
        browser = Browser(app)
        browser.subscribe("aiko@example.org")
        path = preferences_path(browser, app, "aiko@example.org")
        page = browser.get(path)
        left = browser.post("/preferences", {**hidden_fields(page.text), "action": "unsubscribe"})
        assert "You are unsubscribed." in left.text and app.member("aiko@example.org").status == "unsubscribed"
        assert 'value="resubscribe"' in left.text
        with app.ledger() as ledger:
            assert ledger.is_suppressed("aiko@example.org")
        back = browser.post("/preferences", {**hidden_fields(left.text), "action": "resubscribe"})
        assert "a confirmation email is on its way" in back.text
        assert app.member("aiko@example.org").status == "unsubscribed", "not before the new link is used"
        assert app.confirmations("aiko@example.org") == 2
        assert browser.confirm("aiko@example.org").status_code == 200
        assert app.member("aiko@example.org").status == "subscribed"
    finally:
        server.shutdown()
        server.server_close()


def test_a_preferences_post_without_the_form_token_changes_nothing(app):
    browser = Browser(app)
    browser.subscribe("aiko@example.org")
    path = preferences_path(browser, app, "aiko@example.org")
    token = path.split("t=")[1]
    refused = requests.post(app.origin + "/preferences", data={"t": token, "action": "unsubscribe"}, timeout=10)
    assert refused.status_code == 403
    assert app.member("aiko@example.org").status == "subscribed"


def test_every_issue_email_links_to_the_members_preferences_without_their_address(app, seed_rendered):
    browser = Browser(app)
    browser.subscribe("aiko@example.org", "Aiko", "ja")
    browser.confirm("aiko@example.org")
    message = MessageFactory(seed_rendered, app.settings, "members-web-test-secret").personalise("aiko@example.org", "Aiko")
    links = re.findall(r"https://news\.iclei-japan\.example\.org/preferences\?t=[A-Za-z0-9_-]+", message.text)
    assert len(links) == 1 and links[0] in message.html
    assert "aiko" not in links[0]
    page = Browser(app).get(local(links[0]))
    assert page.status_code == 200 and "aiko@example.org" in page.text and page.headers["Content-Language"] == "ja"


def test_other_paths_get_404_and_other_methods_405_with_the_same_safe_headers(app):
    assert requests.get(app.origin + "/", timeout=10).status_code == 404
    assert requests.get(app.origin + "/subscribe/../etc/passwd", timeout=10).status_code == 404
    response = requests.put(app.origin + "/subscribe", timeout=10)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"
    assert_safe_headers(response)


def test_digest_serve_listens_on_loopback_only_and_serve_unsubscribe_is_its_alias(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "x")
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "not a loopback address" in result.output
    assert len(result.output.strip().splitlines()) == 1
    for name in ("serve", "serve-unsubscribe"):
        assert "Example:" in CliRunner().invoke(cli, [name, "--help"]).output


def test_the_wsgi_entry_point_serves_the_members_pages(tmp_path, monkeypatch):
    from wsgiref.simple_server import make_server

    import digest.web
    from digest.members.app import LazyPublicApp
    from digest.members.web import ThreadingWSGIServer

    import threading

    assert isinstance(digest.web.app, LazyPublicApp)
    monkeypatch.setenv("DIGEST_CONFIG", str(REPO / "config.toml"))
    monkeypatch.setenv("DIGEST_LEDGER_PATH", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "x")
    server = make_server("127.0.0.1", 0, LazyPublicApp(), server_class=ThreadingWSGIServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/subscribe", timeout=10)
        assert response.status_code == 200 and 'name="email"' in response.text
    finally:
        server.shutdown()
        server.server_close()
