"""The unsubscribe app over real HTTP on loopback: GET never unsubscribes, a one-click
POST does at once and durably, bad links change nothing, and no request is lost."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

from digest.render.build import sample_message
from digest.config import load_settings
from digest.content import load_issue
from digest.errors import ConfigError
from digest.store.engines import ledger_target as target_of
from digest.store.ledger import SendLedger
from digest.render import render_issue
from digest.members.tokens import make_token, unsubscribe_url
from digest.members.web import ThreadingWSGIServer, _LazyApp, make_app, make_unsubscribe_server
from wsgiref.simple_server import make_server

from .conftest import REPO, SEED_ISSUE, ledger_env

SECRET = "web-test-secret"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def web_settings(ledger_target, monkeypatch):
    """Settings of the app under test, once per ledger engine."""
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    return load_settings(REPO / "config.toml", environ=ledger_env(ledger_target))


def serve(app_server: ThreadingWSGIServer):
    thread = threading.Thread(target=app_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{app_server.server_port}"


@pytest.fixture
def server(web_settings):
    app_server = make_unsubscribe_server(web_settings, "127.0.0.1", 0)
    yield serve(app_server)
    app_server.shutdown()
    app_server.server_close()


def link(settings, origin: str, email: str) -> str:
    """The member's unsubscribe link, pointed at the loopback server."""
    parts = urlsplit(unsubscribe_url(settings, SECRET, email))
    return f"{origin}{parts.path}?{parts.query}"


def suppressed(settings) -> list[tuple[str, str]]:
    with SendLedger(target_of(settings)) as ledger:
        return [(row.email, row.reason) for row in ledger.suppressions()]


def test_get_shows_a_form_that_posts_and_records_nothing(server, web_settings):
    response = requests.get(link(web_settings, server, "member@example.org"), timeout=10)
    assert response.status_code == 200
    assert re.search(r'<form method="post"', response.text)
    assert '<input type="hidden" name="List-Unsubscribe" value="One-Click">' in response.text
    assert "member@example.org" in response.text, "the page names the address the token holds"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert suppressed(web_settings) == []


def test_submitting_the_confirmation_form_unsubscribes(server, web_settings):
    url = link(web_settings, server, "member@example.org")
    page = requests.get(url, timeout=10).text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    response = requests.post(url, data=fields, timeout=10)
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert suppressed(web_settings) == [("member@example.org", "unsubscribe")]


@pytest.mark.parametrize("encoding", ["form-urlencoded", "multipart"])
def test_one_click_post_unsubscribes_at_once_with_200_and_no_redirect(server, web_settings, encoding):
    url = link(web_settings, server, "Member@Example.org")
    body = {"data": ONE_CLICK} if encoding == "form-urlencoded" else {"files": {"List-Unsubscribe": (None, "One-Click")}}
    response = requests.post(url, allow_redirects=False, timeout=10, **body)
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert "You are unsubscribed" in response.text
    assert suppressed(web_settings) == [("member@example.org", "unsubscribe")]


def test_replayed_one_click_post_is_idempotent(server, web_settings):
    url = link(web_settings, server, "member@example.org")
    answers = [requests.post(url, data=ONE_CLICK, timeout=10).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    assert suppressed(web_settings) == [("member@example.org", "unsubscribe")]


def test_twenty_concurrent_one_click_posts_lose_nothing(server, web_settings):
    addresses = [f"member{i}@example.org" for i in range(20)]
    barrier = threading.Barrier(len(addresses))

    def unsubscribe(address: str) -> int:
        url = link(web_settings, server, address)
        barrier.wait(timeout=10)
        return requests.post(url, data=ONE_CLICK, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
        statuses = list(pool.map(unsubscribe, addresses))
    assert statuses == [200] * len(addresses)
    assert sorted(email for email, _ in suppressed(web_settings)) == sorted(addresses)


def _tampered(url: str) -> str:
    token = re.search(r"token=([^&]+)", url).group(1)
    return url.replace(token, token[:5] + ("A" if token[5] != "A" else "B") + token[6:])


def _with_token(origin: str, token: str) -> str:
    return f"{origin}/unsubscribe?token={token}"


def _legacy(origin: str, email: str, list_id: str = "news.iclei-japan.example.org", secret: str = SECRET) -> str:
    return f"{origin}/unsubscribe?list={list_id}&email={email.replace('@', '%40')}&token={make_legacy(secret, list_id, email)}"


def make_legacy(secret: str, list_id: str, email: str) -> str:
    """The HMAC token links carried before tokens were sealed."""
    import base64
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), f"{list_id}\n{email}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


BAD_LINKS = {
    "tampered token": lambda s, o: _tampered(link(s, o, "member@example.org")),
    "truncated token": lambda s, o: link(s, o, "member@example.org")[:-6],
    "another list": lambda s, o: _with_token(o, make_token(SECRET, "other.example.org", "member@example.org")),
    "another secret": lambda s, o: _with_token(o, make_token("not-our-secret", "news.iclei-japan.example.org", "member@example.org")),
    "no token": lambda s, o: re.sub(r"token=[^&]+", "", link(s, o, "member@example.org")),
    "no query": lambda s, o: link(s, o, "member@example.org").split("?")[0],
    "legacy link with another address": lambda s, o: _legacy(o, "member@example.org").replace("member%40", "other%40"),
    "legacy link of another secret": lambda s, o: _legacy(o, "member@example.org", secret="not-our-secret"),
    "sealed token beside another address": lambda s, o: link(s, o, "member@example.org") + "&email=other%40example.org",
}


@pytest.mark.parametrize("case", sorted(BAD_LINKS))
def test_bad_link_gets_400_and_records_nothing(server, web_settings, case):
    url = BAD_LINKS[case](web_settings, server)
    assert requests.get(url, timeout=10).status_code == 400
    response = requests.post(url, data=ONE_CLICK, timeout=10)
    assert response.status_code == 400 and "not valid" in response.text
    assert suppressed(web_settings) == []


def test_post_without_the_one_click_field_records_nothing(server, web_settings):
    url = link(web_settings, server, "member@example.org")
    assert requests.post(url, data={"List-Unsubscribe": "yes"}, timeout=10).status_code == 400
    assert requests.post(url, timeout=10).status_code == 400
    assert suppressed(web_settings) == []


def test_other_paths_404_and_other_methods_405(server, web_settings):
    url = link(web_settings, server, "member@example.org")
    assert requests.get(f"{server}/", timeout=10).status_code == 404
    assert requests.post(f"{server}/unsubscribe/extra", data=ONE_CLICK, timeout=10).status_code == 404
    for method in ("PUT", "DELETE", "PATCH"):
        response = requests.request(method, url, timeout=10)
        assert response.status_code == 405 and response.headers["Allow"] == "GET, POST"
    assert suppressed(web_settings) == []


def test_links_sent_before_tokens_were_sealed_still_unsubscribe(server, web_settings):
    response = requests.post(_legacy(server, "old@example.org"), data=ONE_CLICK, timeout=10)
    assert response.status_code == 200
    assert suppressed(web_settings) == [("old@example.org", "unsubscribe")]


def test_list_unsubscribe_header_of_a_real_message_unsubscribes_with_one_click(server, web_settings):
    rendered = render_issue(load_issue(SEED_ISSUE), web_settings)
    message = sample_message(rendered, web_settings)
    header = dict(message.headers)
    assert header["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https_link = re.search(r"<(https://[^>]+)>", header["List-Unsubscribe"]).group(1)
    parts = urlsplit(https_link)
    response = requests.post(f"{server}{parts.path}?{parts.query}", data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert response.status_code == 200
    assert suppressed(web_settings) == [(web_settings.newsletter.sample_member_email, "unsubscribe")]


def test_app_refuses_to_start_without_the_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET", raising=False)
    settings = load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_PATH": str(tmp_path / "l.sqlite")})
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET"):
        make_app(settings)


def test_module_level_app_reads_config_and_environment_on_first_request(tmp_path, monkeypatch):
    ledger = tmp_path / "lazy.sqlite"
    monkeypatch.setenv("DIGEST_CONFIG", str(REPO / "config.toml"))
    monkeypatch.setenv("DIGEST_LEDGER_PATH", str(ledger))
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    app_server = make_server("127.0.0.1", 0, _LazyApp(), server_class=ThreadingWSGIServer)
    origin = serve(app_server)
    try:
        settings = load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_PATH": str(ledger)})
        assert requests.post(link(settings, origin, "lazy@example.org"), data=ONE_CLICK, timeout=10).status_code == 200
    finally:
        app_server.shutdown()
        app_server.server_close()
    assert suppressed(settings) == [("lazy@example.org", "unsubscribe")]


def test_an_unreachable_ledger_answers_503_with_retry_after_and_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    settings = load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_URL": "postgresql://digest@127.0.0.1:1/news"})
    app_server = make_unsubscribe_server(settings, "127.0.0.1", 0)
    origin = serve(app_server)
    try:
        answer = requests.post(link(settings, origin, "someone@example.org"), data=ONE_CLICK, timeout=10)
    finally:
        app_server.shutdown()
        app_server.server_close()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
    assert "try again" in answer.text
