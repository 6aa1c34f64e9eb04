"""The plain-text part: wrapped by display width with Japanese line-breaking rules,
underlines as wide as their titles look, sent as format=flowed, a proper signature
separator, and every URL once."""
from __future__ import annotations

import email
import email.policy
import re

import budoux
import pytest

from digest.content import load_issue
from digest.render import render_issue
from digest.render.build import sample_message
from digest.render.linebreak import NO_LINE_END, NO_LINE_START, display_width, wrap_paragraph
from digest.render.markdown import LinkNotes, markdown_to_text

from .conftest import MINIMAL_ISSUE_TOML

JAPANESE = (
    "イクレイ日本は、持続可能な都市づくりを目指す自治体の国際ネットワークであるイクレイの日本事務所として、"
    "国内の会員自治体と連携し、気候変動対策や生物多様性の保全に関する情報を発信しています。"
    "「低炭素都市」の取り組みについては、北九州市とハイフォン市、川崎市とヤンゴン市の事例を紹介しています。"
)


def from_flowed(text: str) -> list[str]:
    """RFC 3676 reflow with DelSp=yes, as a reader's client does it: a line ending in a
    space joins the next one at the same quote depth, less that space."""
    paragraphs: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing (or the space after ">")
        flowed = content.endswith(" ") and content != "-- "
        piece = content[:-1] if flowed else content
        current = piece if current is None else current + piece
        if not flowed:
            paragraphs.append(current)
            current = None
    if current is not None:
        paragraphs.append(current)
    return paragraphs


def test_japanese_paragraph_wraps_by_display_width_with_no_forbidden_line_starts_or_ends():
    text = markdown_to_text(JAPANESE, LinkNotes())
    lines = [line.rstrip("\ue000").rstrip() for line in text.splitlines()]
    assert len(lines) > 3, "a 250-column paragraph must wrap"
    assert all(display_width(line) <= 72 for line in lines), [display_width(line) for line in lines]
    assert all(display_width(line) > 40 for line in lines[:-1]), "lines are filled, not cut at each phrase"
    assert not [line for line in lines if line[0] in NO_LINE_START]
    assert not [line for line in lines if line[-1] in NO_LINE_END]
    assert "".join(lines) == JAPANESE


def test_japanese_breaks_fall_between_budoux_phrases():
    phrases = budoux.load_default_japanese_parser().parse(JAPANESE)
    boundaries = {sum(len(p) for p in phrases[:i]) for i in range(len(phrases) + 1)}
    lines = [line.text for line in wrap_paragraph(JAPANESE, 40)]
    offsets = [sum(len(line) for line in lines[:i]) for i in range(1, len(lines))]
    assert offsets and all(offset in boundaries for offset in offsets), (offsets, lines)


def test_footnote_mark_stays_with_the_word_it_marks():
    source = "詳しくは" + "、".join(["報告書"] * 12) + "の[最終報告書](https://example.org/report)をご覧ください。"
    notes = LinkNotes()
    lines = markdown_to_text(source, notes, width=30).splitlines()
    assert notes.urls == ["https://example.org/report"]
    mark_line = next(line for line in lines if "[1]" in line)
    assert "最終報告書[1]" in mark_line, lines
    assert not any(line.startswith("[1]") for line in lines)
    english = markdown_to_text("Read the whole " + "long " * 11 + "[final report](https://example.org/r) today.", LinkNotes(), width=60)
    assert not any(line.startswith("[1]") for line in english.splitlines()), english


def test_over_long_url_is_left_whole():
    url = "https://example.org/" + "a" * 100
    lines = [line.text.strip() for line in wrap_paragraph(f"See {url} for more.", 72)]
    assert lines == ["See", url, "for more."]


@pytest.fixture
def japanese_issue(make_issue):
    toml = MINIMAL_ISSUE_TOML.replace('title = "News"', 'title = "イクレイ日本のお知らせ"')
    item = ('+++\ntitle = "「低炭素で強靱な都市」自治体カタログを公開しました"\n'
            'link = "https://example.org/catalog"\n+++\n' + JAPANESE
            + "\n\n[カタログ](https://example.org/catalog)と[概要](https://example.org/summary)をご覧ください。\n")
    return make_issue({"issue.toml": toml, "one.md": item})


@pytest.fixture
def japanese_message(japanese_issue, settings):
    return sample_message(render_issue(load_issue(japanese_issue), settings), settings)


def test_underlines_are_as_wide_as_their_titles_look(japanese_message):
    lines = japanese_message.text.replace("\ue000", "").splitlines()
    for title, rule in (("イクレイ日本のお知らせ", "-"), ("「低炭素で強靱な都市」自治体カタログを公開しました", "~")):
        index = lines.index(title)
        assert lines[index + 1] == rule * display_width(title), (title, lines[index + 1])
        assert display_width(title) == 2 * len(title)


def test_text_part_is_sent_as_format_flowed_and_reflows_to_whole_paragraphs(japanese_message):
    message = email.message_from_bytes(japanese_message.raw, policy=email.policy.default)
    part = message.get_body(("plain",))
    assert part.get_content_type() == "text/plain"
    assert part.get_param("format") == "flowed" and part.get_param("delsp") == "yes"
    text = part.get_content().replace("\r\n", "\n")
    assert all(display_width(line.rstrip(" ")) <= 72 or "://" in line for line in text.splitlines())
    paragraphs = from_flowed(text)
    assert JAPANESE in paragraphs, "a reflowing client gets the paragraph back with no stray spaces"
    english = next(p for p in from_flowed(sample_text_of_seed()) if p.startswith("JO started to hold"))
    assert "This is a gathering aimed to serve as an opportunity for member officials" in english


def sample_text_of_seed() -> str:
    from digest.config import load_settings

    from .conftest import REPO, SEED_ISSUE

    settings = load_settings(REPO / "config.toml", environ={})
    return sample_message(render_issue(load_issue(SEED_ISSUE), settings), settings).text


def test_signature_separator_is_dash_dash_space_and_hard_lines_carry_no_trailing_space(japanese_message):
    lines = japanese_message.text.splitlines()
    assert lines.count("-- ") == 1
    signature = lines.index("-- ")
    assert lines[signature + 1].startswith("Newsletter") or lines[signature + 1].startswith("ICLEI Japan News")
    hard_with_space = [line for line in from_flowed_lines(japanese_message.text) if line.endswith(" ") and line != "-- "]
    assert hard_with_space == []


def from_flowed_lines(text: str) -> list[str]:
    """The lines a client treats as hard breaks (the last line of each paragraph)."""
    lines = text.split("\n")
    return [line for i, line in enumerate(lines) if not line.endswith(" ") or i == len(lines) - 1]


def test_every_url_appears_once_in_the_text_part(japanese_message):
    urls = re.findall(r"https?://\S+", japanese_message.text)
    assert sorted(urls) == sorted(set(urls)), [u for u in urls if urls.count(u) > 1]
    assert "https://example.org/catalog" in urls and "https://example.org/summary" in urls
    assert any(u.startswith("https://news.iclei-japan.example.org/unsubscribe?token=") for u in urls)
    assert "[1] https://example.org/summary" in japanese_message.text
    assert "カタログと概要[1]をご覧ください。" in japanese_message.text.replace("\ue000", "").replace(" \n", "").replace("\n", "")


def test_seed_text_part_has_no_line_over_72_columns_but_urls():
    for line in sample_text_of_seed().splitlines():
        assert display_width(line.rstrip(" ")) <= 72 or re.search(r"https?://", line), line


def test_lines_a_decoder_would_misread_are_space_stuffed(make_issue, settings):
    item = '+++\ntitle = "Mail"\n+++\n' + "word " * 14 + "From the archive, a note.\n"
    message = sample_message(render_issue(load_issue(make_issue({"one.md": item})), settings), settings)
    assert any(line.startswith(" From the archive") for line in message.text.splitlines()), message.text
    assert not any(line.startswith("From ") for line in message.text.splitlines())
