"""Hostile input at the sign-up and preference forms, over real HTTP: nothing unsafe is
stored, nothing reaches a mail header raw, and every refusal is a clear page."""
from __future__ import annotations

import email
import email.policy

import pytest

from .members_web import Browser, heading, hidden_fields, start


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    running, server = start(tmp_path_factory.mktemp("hostile"), monkeypatch, web_signups_per_minute=0)
    yield running
    server.shutdown()
    server.server_close()
    monkeypatch.undo()


# (email, name, what the page says): refused with 400 and nothing stored or sent.
REFUSED = {
    "CR/LF in the name": ("crlf@example.org", "Evil\r\nBcc: victim@example.org", "Please write your name on one line."),
    "LF alone in the name": ("lf@example.org", "Evil\nX: y", "Please write your name on one line."),
    "NUL in the name": ("nul@example.org", "A\x00B", "Please write your name on one line."),
    "line separator in the name": ("ls@example.org", "A\u2028B", "Please write your name on one line."),
    "an encoded word decoding to CR/LF": ("encoded@example.org", "=?utf-8?q?Evil=0D=0ABcc=3A_x@evil.example?=",
                                          "Please write your name as plain text."),
    "10 KB name": ("long@example.org", "x" * 10_000, "Please keep your name under 100 characters."),
    "no address": ("", "A", "That does not look like an email address."),
    "no domain": ("a@", "A", "That does not look like an email address."),
    "two at signs": ("a@@example.org", "A", "That does not look like an email address."),
    "space in the address": ("a b@example.org", "A", "That does not look like an email address."),
    "header injection in the address": ("x@example.org\r\nBcc: victim@example.org", "A", "That does not look like an email address."),
    "non-ASCII local part": ("愛子@example.org", "A", "That does not look like an email address."),
    "bad domain label": ("a@-example-.org", "A", "That does not look like an email address."),
    "zero-width joiner in the domain": ("x@ex\u200dample.org", "A", "That does not look like an email address."),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_sign_up_is_refused_with_a_clear_page_and_nothing_stored(app, case):
    address, name, says = REFUSED[case]
    response = Browser(app).subscribe(address, name)
    assert response.status_code == 400
    assert says in response.text and heading(response.text) == "Subscribe to ICLEI Japan News"
    assert "<script" not in response.text
    with app.ledger() as ledger:
        assert ledger.db.execute("SELECT COUNT(*) FROM members WHERE name = ? OR email = ?",
                                 (name, address.strip().lower())).fetchone()[0] == 0


def eml(app, address: str) -> email.message.EmailMessage:
    return email.message_from_bytes((app.outbox / "_confirmations" / f"{address}.eml").read_bytes(), policy=email.policy.strict)


@pytest.mark.parametrize("typed, stored, never", [("user@例え.jp", "user@xn--r8jz45g.jp", "user@example.jp"),
                                                  ("x@straße.de", "x@xn--strae-oqa.de", "x@strasse.de")])  # IDNA 2008
def test_an_idn_address_is_stored_and_mailed_in_its_ascii_form(app, typed, stored, never):
    assert Browser(app).subscribe(typed, "IDN").status_code == 200
    member = app.member(stored)
    assert member is not None and member.address == stored
    assert eml(app, stored)["To"].addresses[0].addr_spec == stored
    assert app.member(never) is None, "never mapped to another domain"


def test_markup_in_a_name_is_shown_as_text_on_every_page(app):
    name = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    browser = Browser(app)
    browser.subscribe("markup@example.org", name)
    page = browser.get(app.confirm_path("markup@example.org"))
    confirmed = browser.submit(page, "/confirm")
    html = eml(app, "markup@example.org").get_body(("html",)).get_content()
    for text in (confirmed.text, html):
        assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_language_falls_back_to_the_default_and_a_repeated_field_counts_once(app):
    browser = Browser(app)
    form = hidden_fields(browser.get("/subscribe").text)
    body = f"csrf={form['csrf']}&email=first%40example.org&email=second%40example.org&language=..%2F..%2Fetc&name=&website="
    response = browser.session.post(app.origin + "/subscribe", data=body, timeout=10,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.headers["Content-Language"] == "en"
    assert app.member("first@example.org").language == "en" and app.member("second@example.org") is None


def test_a_body_larger_than_any_form_gets_413(app):
    response = Browser(app).subscribe("big@example.org", "A", padding="x" * 20_000)
    assert response.status_code == 413 and app.member("big@example.org") is None


def test_a_filled_in_honeypot_gets_the_usual_answer_and_nothing_happens(app):
    browser = Browser(app)
    form = browser.get("/subscribe")
    response = browser.submit(form, "/subscribe", email="bot@example.org", name="Bot", language="en",
                              website="https://spam.example")
    assert response.status_code == 200 and heading(response.text) == "Check your inbox"
    assert app.member("bot@example.org") is None and not (app.outbox / "_confirmations" / "bot@example.org.eml").exists()


def test_hostile_names_on_the_preferences_page_are_refused_too(app):
    browser = Browser(app)
    browser.subscribe("prefs@example.org", "Prefs")
    confirmed = browser.confirm("prefs@example.org")
    import re
    page = browser.get(re.search(r'href="(/preferences\?t=[^"]+)"', confirmed.text).group(1).replace("&amp;", "&"))
    for name in ("A\r\nB", "y" * 101):
        refused = browser.post("/preferences", {**hidden_fields(page.text), "action": "save", "name": name, "language": "en"})
        assert refused.status_code == 400
    assert app.member("prefs@example.org").name == "Prefs"
