"""The .eml is standard MIME: it parses back cleanly and carries both parts intact."""
from __future__ import annotations

import email
import email.policy
import re

import pytest

from digest.addresses import check_header_value, normalise_address
from digest.content import load_issue
from digest.errors import HeaderError
from digest.render import render_issue
from digest.render.mime import MessageFactory, encode_qp

from .conftest import SEED_ISSUE


@pytest.fixture(scope="module")
def factory():
    from digest.config import load_settings
    from .conftest import REPO

    settings = load_settings(REPO / "config.toml", environ={})
    return MessageFactory(render_issue(load_issue(SEED_ISSUE), settings), settings, "test-secret")


def parsed(message):
    return email.message_from_bytes(message.raw, policy=email.policy.default)


def test_message_is_multipart_alternative_text_then_html(factory):
    msg = parsed(factory.personalise("aiko@example.org", "Aiko"))
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert msg.defects == [] and all(p.defects == [] for p in parts)


def test_both_parts_decode_to_exactly_the_personalised_content(factory):
    message = factory.personalise("aiko@example.org", "山田 愛子")
    text, html = (p.get_content().replace("\r\n", "\n") for p in parsed(message).iter_parts())
    assert text == message.text
    assert html == message.html
    assert "Dear 山田 愛子," in text


def test_both_parts_carry_all_seed_items(factory, seed_items):
    text, html = (p.get_content() for p in parsed(factory.personalise("a@example.org")).iter_parts())
    flat_text = " ".join(text.split())
    for title, _ in seed_items:
        assert title in flat_text
        assert title.replace('"', "&quot;") in html or title.replace('"', "&#34;") in html or title in html


def test_required_headers_are_present(factory):
    msg = parsed(factory.personalise("aiko@example.org", "Aiko"))
    for name in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Id",
                 "List-Unsubscribe", "List-Unsubscribe-Post"):
        assert msg[name], name
    assert msg["To"].addresses[0].addr_spec == "aiko@example.org"
    assert msg["From"].addresses[0].addr_spec == "news@iclei-japan.example.org"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https://[^>]+token=[A-Za-z0-9_-]+&lang=en>, <mailto:[^>]+>", str(msg["List-Unsubscribe"]))


def test_japanese_subject_round_trips_through_rfc2047(factory):
    message = factory.personalise("a@example.org")
    raw_subject = re.search(rb"^Subject: (.*?)\r\n(?! )", message.raw, re.S | re.M).group(1)
    assert raw_subject.isascii() and b"=?utf-8?" in raw_subject
    assert parsed(message)["Subject"] == "ICLEI Japan News, October 2015 | イクレイ日本ニュース"


def test_no_line_exceeds_998_octets_and_all_is_seven_bit(factory):
    raw = factory.personalise("a@example.org", "A" * 300).raw
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_each_member_gets_a_unique_message_id_on_the_sender_domain(factory):
    ids = {factory.personalise(f"m{n}@example.org").message_id for n in range(200)}
    assert len(ids) == 200
    assert all(i.endswith("@iclei-japan.example.org>") for i in ids)


@pytest.mark.parametrize("name", ["Eve\r\nBcc: victim@example.org", "Eve\nX: y", "Eve\rX: y", "Eve\x00"])
def test_header_injection_in_member_name_is_rejected(factory, name):
    with pytest.raises(HeaderError):
        factory.personalise("eve@example.org", name)


@pytest.mark.parametrize("address", ["eve@example.org\r\nBcc: v@example.org", "eve@example.org\n", "no-at-sign", "a@b", "ü@example.org", "a@-bad-.org", "a@@example.org"])
def test_bad_or_injected_addresses_are_rejected(address):
    with pytest.raises(HeaderError):
        normalise_address(address)


def test_subject_with_line_break_is_rejected(settings):
    from dataclasses import replace

    issue = replace(load_issue(SEED_ISSUE), subject="Hello\r\nBcc: v@example.org")
    with pytest.raises(HeaderError):
        MessageFactory(render_issue(issue, settings), settings, "s")


def test_international_domain_is_idna_encoded():
    assert normalise_address("a@bücher.example") == "a@xn--bcher-kva.example"


def test_check_header_value_passes_clean_values_unchanged():
    assert check_header_value("Subject", "Plain — ünïcode ok") == "Plain — ünïcode ok"


def test_quoted_printable_survives_slot_values_with_newlines_and_equals():
    text = encode_qp("a=b\nline two with trailing space \n")
    assert email.quoprimime.body_decode(text.decode().replace("\r\n", "\n")) == "a=b\nline two with trailing space \n"
