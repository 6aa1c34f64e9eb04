"""The rendered email: every item, in order, accessible, responsive, under the clip limit."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from digest.content import load_issue
from digest.errors import TemplateError
from digest.render import render_issue, render_web_page
from digest.render.markdown import LinkNotes, markdown_to_text
from digest.render.issue import build_environment
from digest.render.build import sample_message

from .conftest import SEED_ISSUE


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def seed_message():
    from digest.config import load_settings
    from .conftest import REPO

    settings = load_settings(REPO / "config.toml", environ={})
    return sample_message(render_issue(load_issue(SEED_ISSUE), settings), settings)


def _positions(haystack: str, needles: list[str]) -> list[int]:
    return [haystack.find(needle) for needle in needles]


def test_every_seed_title_appears_in_html_and_text_in_seed_order(seed_message, seed_items):
    html_text = "".join(parse(seed_message.html).text)
    titles = [title for title, _ in seed_items]
    for part in (html_text, " ".join(seed_message.text.split())):
        positions = _positions(part, titles)
        assert -1 not in positions, [t for t, p in zip(titles, positions) if p == -1]
        assert positions == sorted(positions)


def test_every_seed_body_sentence_reaches_the_text_part(seed_message, seed_items):
    flat = " ".join(seed_message.text.split())
    for _, body in seed_items:
        first_sentence = " ".join(body.replace("o n Sep", "on Sep").split())[:60]
        assert first_sentence in flat


def test_html_has_lang_title_preheader_and_color_scheme(seed_message):
    html = seed_message.html
    assert html.startswith("<!doctype html>")
    tags = parse(html).tags
    assert any(tag == "html" and attrs.get("lang") == "en" for tag, attrs in tags)
    assert re.search(r"<title>ICLEI Japan News, October 2015 \| イクレイ日本ニュース</title>", html)
    assert any(tag == "meta" and attrs.get("name") == "color-scheme" and "dark" in attrs.get("content", "") for tag, attrs in tags)
    preheader = re.search(r'<div class="preheader" style="display:none[^"]*">([^<]*)</div>', html)
    assert preheader and preheader.group(1).startswith("A JCM brochure")


def test_layout_tables_are_presentational_and_images_have_alt(seed_message):
    tags = parse(seed_message.html).tags
    tables = [attrs for tag, attrs in tags if tag == "table"]
    assert tables and all(attrs.get("role") == "presentation" for attrs in tables)
    assert all(attrs.get("alt") for tag, attrs in tags if tag == "img")


def test_responsive_and_dark_mode_rules_survive_inlining_with_important(seed_message):
    html = seed_message.html
    assert re.search(r"@media only screen and \(min-width: ?480px\)[^}]*\.mj-column-per-100[^}]*!important", html, re.S)
    assert "prefers-color-scheme: dark" in html
    assert "fonts.googleapis.com" not in html


def test_css_rules_are_inlined_into_elements(seed_message):
    assert re.search(r'<h3 style="[^"]*font-size:\s*20px', seed_message.html)


def test_seed_issue_is_under_gmail_clip_limit(seed_message, settings):
    size = len(seed_message.html.encode("utf-8"))
    assert size < settings.clip_bytes
    assert size < 102_000


def test_member_values_are_html_escaped_but_plain_in_text(settings):
    from digest.render.mime import MessageFactory

    rendered = render_issue(load_issue(SEED_ISSUE), settings)
    message = MessageFactory(rendered, settings, "secret").personalise("a@example.org", '<script>alert("x")</script> & Co')
    assert "<script>" not in message.html
    assert "Dear &lt;script&gt;alert(&#x27;x&#x27;)" not in message.html  # quote style is html.escape's
    assert "Dear &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co," in message.html
    assert 'Dear <script>alert("x")</script> & Co,' in message.text


def test_missing_name_falls_back_to_a_neutral_greeting(settings):
    from digest.render.mime import MessageFactory

    rendered = render_issue(load_issue(SEED_ISSUE), settings)
    message = MessageFactory(rendered, settings, "secret").personalise("a@example.org", "")
    assert "Hello," in message.text and "Dear ," not in message.text


def test_web_page_has_no_member_data_or_unsubscribe_token(settings):
    page = render_web_page(load_issue(SEED_ISSUE), settings)
    assert "token=" not in page and "__digest_" not in page
    assert settings.newsletter.sample_member_name not in page
    assert "Published &#34;Joint Crediting" in page or 'Published "Joint Crediting' in page or "Published &quot;Joint" in page


def test_item_markdown_raw_html_is_escaped(make_issue, settings):
    folder = make_issue({"one.md": '+++\ntitle = "T <b>bold</b>"\n+++\n<script>bad()</script> and [a link](https://example.org/x)\n'})
    rendered = render_issue(load_issue(folder), settings)
    html = rendered.html.merge(["x"] * len(rendered.slots))
    assert "<script>bad()" not in html and "&lt;script&gt;bad()" in html
    assert "T &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="https://example.org/x"' in html


def test_text_part_turns_links_into_numbered_footnotes():
    notes = LinkNotes()
    text = markdown_to_text("See [the report](https://example.org/r) and [it again](https://example.org/r).", notes)
    assert text == "See the report [1] and it again [1]."
    assert notes.urls == ["https://example.org/r"]


def test_unknown_template_variable_names_template_file_and_line(settings, tmp_path):
    import shutil
    from dataclasses import replace

    from .conftest import REPO

    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    item = templates / "partials" / "item.mjml"
    item.write_text(item.read_text().replace("{{ item.title }}", "{{ item.titel }}"))
    tables = {**settings.tables, "paths": {**settings.tables["paths"], "templates": str(templates)}}
    broken = replace(settings, tables=tables)
    with pytest.raises(TemplateError) as info:
        render_issue(load_issue(SEED_ISSUE), broken, build_environment(broken))
    assert info.value.path is not None and info.value.path.name == "item.mjml"
    assert info.value.line == 9
    assert "titel" in str(info.value)
