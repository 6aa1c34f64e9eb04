"""Unsubscribe tokens: only the right secret, list and address verify."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from digest.errors import ConfigError
from digest.members.tokens import list_id_for, make_token, unsubscribe_secret, unsubscribe_url, verify_token

SECRET = "test-secret-1"
LIST = "news.example.org"


def test_token_verifies_for_its_address_list_and_secret():
    token = make_token(SECRET, LIST, "member@example.org")
    assert verify_token(SECRET, LIST, "member@example.org", token)
    assert verify_token(SECRET, LIST, " Member@Example.org ", token), "addresses compare case-insensitively"


def test_tampered_token_fails():
    token = make_token(SECRET, LIST, "member@example.org")
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in (flipped, token[:-1], token + "x", "", "a" * len(token)):
        assert not verify_token(SECRET, LIST, "member@example.org", bad)


def test_token_for_another_address_fails():
    token = make_token(SECRET, LIST, "member@example.org")
    assert not verify_token(SECRET, LIST, "other@example.org", token)


def test_token_for_another_list_fails():
    token = make_token(SECRET, "other.example.org", "member@example.org")
    assert not verify_token(SECRET, LIST, "member@example.org", token)


def test_token_made_with_another_secret_fails():
    token = make_token("another-secret", LIST, "member@example.org")
    assert not verify_token(SECRET, LIST, "member@example.org", token)


def test_unsubscribe_url_carries_list_email_and_a_token_that_verifies(settings):
    url = unsubscribe_url(settings, SECRET, "a+b@example.org")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(settings.newsletter.base_url + "/unsubscribe?")
    assert query["list"] == list_id_for(settings) and query["email"] == "a+b@example.org"
    assert verify_token(SECRET, query["list"], query["email"], query["token"])


def test_required_secret_missing_is_a_config_error_naming_the_variable(settings):
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET"):
        unsubscribe_secret(settings, required=True)
