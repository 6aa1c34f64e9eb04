"""Each member receives their language's edition: a real send of the seed issue to the
outbox, every .eml parsed back; the unsubscribe page in the member's language."""
from __future__ import annotations

import email
import email.policy
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner

from digest.cli import cli
from digest.config import load_settings
from digest.content import load_issue
from digest.members.web import make_unsubscribe_server
from digest.render.issue import render_editions
from digest.render.mime import MessageFactories

from .conftest import REPO, SEED_ISSUE

MEMBERS = """email,name,language,tags,city
en@example.org,Ben Ortiz,en,,Iloilo
ja@example.org,Aiko Tanaka,ja,,Kyoto
jajp@example.org,森 大輔,ja-JP,,Kitakyushu
empty@example.org,Chloé Martin,,,Leipzig
fr@example.org,Jeanne Roux,fr,,Lyon
noname@example.org,,JA,,Tokyo
"""

ENGLISH = {"subject": "ICLEI Japan News, October 2015 | イクレイ日本ニュース", "lang": "en", "date": "October 30, 2015",
           "browser": "View this issue in your browser", "section": "Publications", "footer": "Unsubscribe",
           "page": "https://news.iclei-japan.example.org/2015-10/"}
JAPANESE = {"subject": "イクレイ日本ニュース 2015年10月号", "lang": "ja", "date": "2015年10月30日",
            "browser": "ブラウザでこの号を読む", "section": "刊行物", "footer": "配信停止",
            "page": "https://news.iclei-japan.example.org/ja/2015-10/"}
EXPECTED = {
    "en@example.org": (ENGLISH, "Dear Ben Ortiz,"),
    "ja@example.org": (JAPANESE, "Aiko Tanaka 様"),
    "jajp@example.org": (JAPANESE, "森 大輔 様"),
    "empty@example.org": (ENGLISH, "Dear Chloé Martin,"),
    "fr@example.org": (ENGLISH, "Dear Jeanne Roux,"),
    "noname@example.org": (JAPANESE, "読者の皆様"),
}


@pytest.fixture(scope="module")
def outbox(tmp_path_factory):
    """The seed issue sent with `digest send` to members of every kind of language column."""
    tmp = tmp_path_factory.mktemp("send")
    (tmp / "members.csv").write_text(MEMBERS, encoding="utf-8")
    env = {"DIGEST_OUTBOX_PATH": str(tmp / "outbox"), "DIGEST_LEDGER_PATH": str(tmp / "ledger.sqlite")}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE),
                                      "--members", str(tmp / "members.csv"), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "Sent 6, failed 0, deferred 0." in result.stdout
    return tmp / "outbox" / "2015-10"


def parsed(path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@pytest.mark.parametrize("address", list(EXPECTED))
def test_each_member_gets_subject_lang_greeting_date_strings_and_text_part_in_their_language(outbox, address):
    expected, greeting = EXPECTED[address]
    other = JAPANESE if expected is ENGLISH else ENGLISH
    message = parsed(outbox / f"{address}.eml")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == expected["subject"]
    assert message["Content-Language"] == expected["lang"]
    assert re.search(rf'<html lang="{expected["lang"]}" dir="ltr"', html)
    assert greeting in unescape(html) and greeting in text
    for part in (unescape(html), text):
        flat = " ".join(part.split())
        assert expected["date"] in flat and other["date"] not in flat
        assert expected["browser"] in flat and other["browser"] not in flat
        assert expected["section"].casefold() in flat.casefold() and expected["footer"] in flat
        assert "Joint Crediting Mechanism (JCM) utilized through City-to-City Collaboration" in flat, "the seed's items, in English"
    assert f'href="{expected["page"]}"' in html, "view in browser goes to the member's language page"
    assert f"lang={expected['lang']}" in message["List-Unsubscribe"]
    if expected is JAPANESE:
        assert len(re.findall(r'<h3 lang="en"', html)) == 9, "every untranslated item is marked English"


def test_one_render_per_language_serves_every_member(settings):
    factories = MessageFactories(render_editions(load_issue(SEED_ISSUE), settings), settings, "secret")
    first = factories.personalise("a@example.org", "A", language="ja-JP")
    second = factories.personalise("b@example.org", "B", language="ja")
    assert first.factory is second.factory is factories.factories["ja"]
    assert factories.personalise("c@example.org", language="pt").factory is factories.factories["en"]
    assert factories.languages == ("en", "ja") and factories.rendered.language == "en"


def test_a_test_send_uses_the_members_language_with_the_test_prefix(tmp_path):
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(SEED_ISSUE),
                                      "--test", "aiko.tanaka@example.org"], env=env)
    assert result.exit_code == 0, result.output
    message = parsed(tmp_path / "outbox" / "2015-10" / "test" / "aiko.tanaka@example.org.eml")
    assert message["Subject"] == "[TEST] イクレイ日本ニュース 2015年10月号" and message["Content-Language"] == "ja"


@pytest.fixture
def unsubscribe_server(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", "lang-secret")
    settings = load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite")})
    server = make_unsubscribe_server(settings, "127.0.0.1", 0)
    import threading

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield settings, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def member_link(settings, origin: str, address: str, language: str) -> str:
    factories = MessageFactories(render_editions(load_issue(SEED_ISSUE), settings), settings, "lang-secret")
    header = factories.personalise(address, "", language=language).headers[0][1]
    parts = urlsplit(re.search(r"<(https://[^>]+)>", header).group(1))
    return f"{origin}{parts.path}?{parts.query}"


def test_the_unsubscribe_page_speaks_the_language_the_email_was_sent_in(unsubscribe_server):
    settings, origin = unsubscribe_server
    url = member_link(settings, origin, "aiko@example.org", "ja-JP")
    page = requests.get(url, headers={"Accept-Language": "en"}, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Language"] == "ja"
    assert '<html lang="ja">' in page.text and "配信を停止しますか" in page.text and ">配信停止</button>" in page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    done = requests.post(url, data=fields, timeout=10)
    assert done.status_code == 200 and "配信を停止しました" in done.text
    english = requests.get(member_link(settings, origin, "ben@example.org", "en"), headers={"Accept-Language": "ja"}, timeout=10)
    assert '<html lang="en">' in english.text and "Stop sending ICLEI Japan News to" in english.text


@pytest.mark.parametrize("accept, language, words", [
    ("ja-JP,ja;q=0.9,en;q=0.5", "ja", "無効なリンクです"),
    ("de-DE, en;q=0.3", "en", "Link not valid"),
    ("", "en", "Link not valid"),
])
def test_without_a_language_in_the_link_the_page_follows_accept_language(unsubscribe_server, accept, language, words):
    _, origin = unsubscribe_server
    page = requests.get(f"{origin}/unsubscribe?list=x&email=a%40example.org&token=bad", headers={"Accept-Language": accept}, timeout=10)
    assert page.status_code == 400 and page.headers["Content-Language"] == language and words in page.text


def test_a_merge_provider_gets_one_call_per_language_each_with_its_content_language(provider_backend, settings):
    from .provider_formats import mailgun_deliveries

    factories = MessageFactories(render_editions(load_issue(SEED_ISSUE), settings), settings, "test-secret")
    batch = [factories.personalise(f"{n}@example.org", f"M{n}", language=language)
             for n, language in enumerate(["ja", "en", "ja-JP", "", "fr"])]
    backend, server = provider_backend("mailgun")
    with backend:
        results = backend.send_batch(batch)
    forms = [dict(request.form()) for request in server.requests]
    assert [(f["subject"], f["h:Content-Language"]) for f in forms] == [(JAPANESE["subject"], "ja"), (ENGLISH["subject"], "en")]
    copies = {**mailgun_deliveries(server.requests[0]), **mailgun_deliveries(server.requests[1])}
    assert "M0 様" in copies["0@example.org"]["text"] and "Dear M1," in copies["1@example.org"]["text"]
    assert [r.recipient for r in results] == [m.recipient for m in batch]
