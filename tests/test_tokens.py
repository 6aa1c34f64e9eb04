"""Member tokens: sealed, so they open only with the right secret, unaltered, for the
right list; and the links that carry them name no address, readable or encoded."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from digest.errors import ConfigError
from digest.members.tokens import (
    decode_token,
    list_id_for,
    make_token,
    read_token,
    unsubscribe_secret,
    unsubscribe_url,
    verify_legacy_token,
    verify_token,
)

SECRET = "test-secret-1"
LIST = "news.example.org"


def test_token_opens_to_its_list_and_lower_cased_address():
    token = make_token(SECRET, LIST, " Member@Example.org ")
    assert verify_token(SECRET, token, LIST) == {"list": LIST, "email": "member@example.org"}


def test_token_carries_extra_keys_for_later_pages():
    token = make_token(SECRET, LIST, "member@example.org", language="ja")
    assert read_token(SECRET, token) == {"list": LIST, "email": "member@example.org", "language": "ja"}


def test_same_member_gets_the_same_token_and_another_member_another():
    assert make_token(SECRET, LIST, "a@example.org") == make_token(SECRET, LIST, "A@example.org")
    assert make_token(SECRET, LIST, "a@example.org") != make_token(SECRET, LIST, "b@example.org")


def _flip(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]


def test_altered_or_truncated_token_opens_to_nothing():
    token = make_token(SECRET, LIST, "member@example.org")
    bad = [_flip(token, 0), _flip(token, 5), _flip(token, len(token) - 3), token[:-1], token[:-8], token + "x",
           "", "a" * len(token), "!!!", "A" * 5000]
    for candidate in bad:
        assert read_token(SECRET, candidate) is None, candidate


def test_token_for_another_list_is_refused():
    token = make_token(SECRET, "other.example.org", "member@example.org")
    assert read_token(SECRET, token) is not None
    assert verify_token(SECRET, token, LIST) is None


def test_token_made_with_another_secret_is_refused():
    assert read_token(SECRET, make_token("another-secret", LIST, "member@example.org")) is None


def test_token_shows_no_address_in_any_common_encoding():
    address = "member@example.org"
    token = make_token(SECRET, LIST, address)
    raw = decode_token(token)
    encodings = [address, quote(address, safe=""), address.encode().hex(),
                 base64.b64encode(address.encode()).decode().rstrip("="),
                 base64.urlsafe_b64encode(address.encode()).decode().rstrip("=")]
    for encoded in encodings:
        assert encoded.lower() not in token.lower()
    assert b"member" not in raw and b"example" not in raw


def test_unsubscribe_url_holds_one_token_that_opens_to_the_member(settings):
    url = unsubscribe_url(settings, SECRET, "a+b@example.org")
    assert url.startswith(settings.newsletter.base_url + "/unsubscribe?token=")
    query = parse_qs(urlsplit(url).query)
    assert list(query) == ["token"]
    assert "a+b" not in url and "example.org" not in urlsplit(url).query and "%40" not in url
    assert verify_token(SECRET, query["token"][0], list_id_for(settings))["email"] == "a+b@example.org"


def test_legacy_hmac_links_still_verify():
    # The token of ?list=news.example.org&email=member@example.org under SECRET, as
    # links sent before tokens were sealed carry it.
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), f"{LIST}\nmember@example.org".encode(), hashlib.sha256).digest()[:16]
    legacy = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert verify_legacy_token(SECRET, LIST, "Member@Example.org", legacy)
    assert not verify_legacy_token(SECRET, LIST, "other@example.org", legacy)
    assert not verify_legacy_token("another-secret", LIST, "member@example.org", legacy)


def test_required_secret_missing_is_a_config_error_naming_the_variable(settings):
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET"):
        unsubscribe_secret(settings, required=True)
