"""Issues in several languages: reading translations, one edition per language, the
catalogs behind the interface strings, and templates that cannot test member values."""
from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from digest.checks.preflight import check_issue
from digest.content import load_issue
from digest.content.translations import localise
from digest.errors import ContentError, TemplateError
from digest.i18n import match_language, negotiate, translations
from digest.render.issue import build_environment, render_editions, render_issue

from .conftest import REPO, SEED_ISSUE

FIXTURE = REPO / "tests" / "fixtures" / "issues" / "2026-04"
BILINGUAL_TOML = '''languages = ["en", "ja"]
title = "Test issue"
date = 2026-01-31
subject = "Test subject"
preheader = "Preheader"

[ja]
subject = "テストの件名"

[[sections]]
title = "News"
ja.title = "ニュース"
items = ["one.md", "two.md"]
'''
TWO = '+++\ntitle = "Item two"\nlink = "https://example.org/two"\n+++\nBody of item two.\n'


def merged(rendered, **fields) -> tuple[str, str]:
    values = rendered.slot_values({"name": "", "email": "a@example.org", "unsubscribe_url": "https://u.example/", **fields})
    return rendered.html.merge(values), rendered.text.merge(values)


@pytest.mark.parametrize("tag, expected", [
    ("ja", "ja"), ("ja-JP", "ja"), ("JA_jp", "ja"), ("en-GB", "en"), ("", "en"), ("fr", "en"), ("  ", "en"),
    ("zh-Hant-TW", "zh-Hant"), ("zh-CN", "en"),
])
def test_member_language_tags_match_an_edition_or_the_default(tag, expected):
    assert match_language(tag, ("en", "ja", "zh-Hant"), "en") == expected


def test_accept_language_picks_the_best_available_by_quality():
    assert negotiate("fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.7", ("en", "ja")) == "ja"
    assert negotiate("de, *;q=0.5", ("en", "ja")) is None
    assert negotiate("ja;q=0, en-US;q=0.3", ("en", "ja")) == "en"


def test_translation_inherits_the_keys_it_does_not_set():
    issue = load_issue(FIXTURE)
    assert issue.languages == ("en", "ja")
    solar, lanes = issue.items[0], issue.items[1]
    ja = solar.translations["ja"]
    assert ja.title.startswith("2030年までに") and ja.language == "ja" and solar.language == "en"
    assert ja.link == solar.link and ja.tags == ("energy",), "link and tags come from 01-solar-schools.md"
    assert lanes.translations["ja"].link == "https://example.org/ja/notes/cycle-lanes", "a translation may override"


def test_localise_gives_each_language_its_text_and_marks_untranslated_items(make_issue):
    folder = make_issue({"issue.toml": BILINGUAL_TOML, "two.md": TWO,
                         "one.ja.md": '+++\ntitle = "項目一"\n+++\n本文。\n'})
    issue = load_issue(folder)
    ja = localise(issue, "ja")
    assert (ja.subject, ja.title, ja.sections[0].title) == ("テストの件名", "Test issue", "ニュース")
    assert [(item.title, item.language) for item in ja.items] == [("項目一", "ja"), ("Item two", "en")]
    omitted = localise(issue, "ja", fallback="omit")
    assert [item.title for item in omitted.items] == ["項目一"]
    assert localise(issue, "en").items == issue.items and localise(issue, "fr").language == "en"


def test_omit_leaves_out_a_section_that_has_no_translated_item(make_issue):
    toml = BILINGUAL_TOML.replace('items = ["one.md", "two.md"]', 'items = ["one.md"]\n\n[[sections]]\ntitle = "Later"\nitems = ["two.md"]')
    issue = load_issue(make_issue({"issue.toml": toml, "two.md": TWO, "one.ja.md": '+++\ntitle = "項目一"\n+++\n本文。\n'}))
    assert [s.title for s in localise(issue, "ja", fallback="omit").sections] == ["ニュース"]


@pytest.mark.parametrize("files, filename, line, words", [
    ({"issue.toml": BILINGUAL_TOML.replace('["en", "ja"]', '["en", "japanese!"]')}, "issue.toml", 1, "is not a language tag"),
    ({"issue.toml": BILINGUAL_TOML.replace('["en", "ja"]', '["en", "ja", "JA"]')}, "issue.toml", 1, "listed twice"),
    ({"issue.toml": BILINGUAL_TOML.replace('subject = "テストの件名"', 'subjekt = "x"')}, "issue.toml", 8, "unknown key 'subjekt' in ja"),
    ({"issue.toml": BILINGUAL_TOML.replace("[ja]", "[fr]")}, "issue.toml", 7, "to give fr text, list it in languages"),
    ({"issue.toml": BILINGUAL_TOML.replace('ja.title = "ニュース"', "ja.title = 3")}, "issue.toml", 10, "ja.title of section 1 must be a string"),
    ({"one.ja.md": '+++\nlink = "https://example.org/x"\n+++\n本文。\n'}, "one.ja.md", 1, "a translation needs its own title"),
    ({"one.ja.md": '+++\ntitle = "x"\ncolour = 1\n+++\n'}, "one.ja.md", 3, "unknown key 'colour'"),
])
def test_translation_mistakes_name_file_and_line(make_issue, settings, files, filename, line, words):
    folder = make_issue({"issue.toml": BILINGUAL_TOML, "two.md": TWO, **files})
    errors = [f for f in check_issue(folder, settings) if f.severity == "error"]
    assert any(f.path.name == filename and f.line == line and words in f.message for f in errors), [str(f) for f in errors]
    with pytest.raises(ContentError):
        load_issue(folder)


def test_check_warns_per_untranslated_item_and_language_and_about_stray_translations(make_issue, settings):
    toml = BILINGUAL_TOML.replace('["en", "ja"]', '["en", "ja", "de"]')
    folder = make_issue({"issue.toml": toml, "two.md": TWO, "one.ja.md": '+++\ntitle = "項目一"\n+++\n本文。\n',
                         "two.fr.md": '+++\ntitle = "Deux"\n+++\nCorps.\n'})
    warnings = {(f.path.name, f.message) for f in check_issue(folder, settings) if f.severity == "warning"}
    untranslated = sorted((name, re.search(r"into (\w+)", m).group(1)) for name, m in warnings if m.startswith("not translated"))
    assert untranslated == [("one.md", "de"), ("two.md", "de"), ("two.md", "ja")]
    assert ("two.fr.md", "translation into 'fr', which is not in this issue's languages (en, ja, de)") in warnings
    assert any(name == "issue.toml" and m.startswith("no catalog for de") for name, m in warnings)
    assert any(name == "issue.toml" and m.startswith("no de text for title, subject, preheader, section 1") for name, m in warnings)
    assert not any("one.ja.md" == name for name, _ in warnings), "a translation is not an unlisted item"


def test_omit_is_named_in_the_warning(make_issue, settings):
    from .conftest import with_table

    folder = make_issue({"issue.toml": BILINGUAL_TOML, "two.md": TWO})
    messages = [f.message for f in check_issue(folder, with_table(settings, "i18n", fallback="omit"))]
    assert "not translated into ja (no two.ja.md): left out of the ja edition" in messages


def test_fixture_renders_every_interface_string_date_and_greeting_in_each_language(settings):
    editions = render_editions(load_issue(FIXTURE), settings)
    assert list(editions) == ["en", "ja"]
    en_html, en_text = merged(editions["en"], name="Aiko")
    ja_html, ja_text = merged(editions["ja"], name="Aiko")
    assert re.search(r'<html lang="en" dir="ltr"', en_html) and re.search(r'<html lang="ja" dir="ltr"', ja_html)
    assert editions["ja"].subject == "都市の気候ノート 2026年4月号" and editions["ja"].language == "ja"
    assert "April 30, 2026" in en_html and "2026年4月30日" in ja_html and "2026年4月30日" in ja_text
    assert "Dear Aiko," in en_text and "Aiko 様" in ja_text and "Dear" not in ja_text
    for english in ("View this issue in your browser", "Unsubscribe", "You receive this"):
        assert english in en_html and english not in ja_html
    assert "ブラウザでこの号を読む" in ja_html and "配信停止" in ja_html
    assert "https://example.org/ja/notes/cycle-lanes" in ja_text, "the translation's own link"
    assert "https://news.iclei-japan.example.org/ja/2026-04/" in ja_html, "view in browser goes to the Japanese page"
    assert 'lang="en"' not in ja_html, "a fully translated issue marks no block as English"
    assert "縁石と植栽で守られた自転車レーン12キロ" in ja_html and "Twelve kilometres" not in ja_html


def test_untranslated_items_stay_english_inside_the_japanese_email_marked_lang_en(seed_rendered, settings):
    ja = render_issue(load_issue(SEED_ISSUE), settings, language="ja")
    html, text = merged(ja, name="")
    assert re.search(r'<html lang="ja"', html)
    assert len(re.findall(r'<h3 lang="en"', html)) == 9 and len(re.findall(r'<div lang="en">', html)) == 9
    assert "今号の記事は英語のみでの掲載です。" in html and "刊行物" in html
    assert "読者の皆様" in text, "the greeting without a name is Japanese too"
    for title in ("Published a new", "ICLEI holds the fourth"):
        assert title.split()[0] in text
    english_html, _ = merged(seed_rendered)
    assert not re.search(r'<(h2|div) lang="en">', english_html), "the English edition marks nothing"


def test_plain_text_follows_the_language_in_the_same_order(settings):
    editions = render_editions(load_issue(FIXTURE), settings)
    _, en = merged(editions["en"], name="Ben")
    _, ja = merged(editions["ja"], name="森 大輔")
    order = lambda text, needles: [text.index(n) for n in needles]  # noqa: E731
    en_order = order(en, ["April 30, 2026", "View this issue", "Dear Ben,", "Three short notes", "ENERGY", "Solar panels",
                          "STREETS AND SUMMERS", "Twelve kilometres", "Cool shelters", "Unsubscribe:"])
    ja_order = order(ja, ["2026年4月30日", "ブラウザでこの号を読む", "森 大輔 様", "今月は会員都市", "エネルギー", "太陽光パネル",
                          "道路と夏", "自転車レーン12キロ", "クールシェルター", "配信停止："])
    assert en_order == sorted(en_order) and ja_order == sorted(ja_order)


@pytest.mark.parametrize("condition", [
    '{% if member.language == "ja" %}こんにちは{% endif %}',
    '{% if member.name %}Hi{% else %}Hello{% endif %}',
    '{{ "x" if member.field("city") == "Kyoto" else "y" }}',
    '{% if audience == "email" %}{% elif member["language"] is defined %}x{% endif %}',
])
def test_a_condition_on_a_member_value_is_an_error_naming_template_and_line_with_a_hint(settings, tmp_path, condition):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    footer = templates / "partials" / "footer.mjml"
    original = footer.read_text(encoding="utf-8")
    condition_line = original[: original.index("<mj-column>")].count("\n") + 2  # the line after the first <mj-column>
    footer.write_text(original.replace("<mj-column>", "<mj-column>\n" + condition, 1), encoding="utf-8")
    broken = replace(settings, tables={**settings.tables, "paths": {**settings.tables["paths"], "templates": str(templates)}})
    with pytest.raises(TemplateError) as caught:
        render_issue(load_issue(FIXTURE), broken, build_environment(broken))
    assert caught.value.path.name == "footer.mjml" and caught.value.line == condition_line
    assert "condition on member." in caught.value.message and "use `language`" in caught.value.message


def test_a_condition_on_language_is_allowed_and_differs_per_edition(settings, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    footer = templates / "partials" / "footer.mjml"
    footer.write_text(footer.read_text(encoding="utf-8").replace(
        "<mj-column>", '<mj-column>\n{% if language == "ja" %}<mj-text>JA-ONLY</mj-text>{% endif %}', 1), encoding="utf-8")
    changed = replace(settings, tables={**settings.tables, "paths": {**settings.tables["paths"], "templates": str(templates)}})
    editions = render_editions(load_issue(FIXTURE), changed)
    assert "JA-ONLY" in merged(editions["ja"])[0] and "JA-ONLY" not in merged(editions["en"])[0]


def template_messages() -> set[str]:
    """Every message the templates and the unsubscribe page ask to translate."""
    method_map = [("templates/**.mjml", "jinja2"), ("templates/**.txt", "jinja2"), ("templates/**.html", "jinja2"),
                  ("digest/members/web.py", "python")]
    found = {message for _, _, message, *_ in extract_from_dir(str(REPO), method_map)}
    return {m if isinstance(m, str) else m[0] for m in found}


def test_every_shipped_catalog_has_every_message_the_templates_use_and_nothing_stale():
    wanted = template_messages()
    assert {"Draft", "Dear {name},", "Unsubscribe", "Stop sending %(newsletter)s to %(address)s?"} <= wanted
    catalogs = sorted((REPO / "locale").glob("*/LC_MESSAGES/digest.po"))
    assert [p.parent.parent.name for p in catalogs] == ["en", "ja"]
    for path in catalogs:
        with path.open("rb") as handle:
            catalog = read_po(handle)
        ids = {message.id for message in catalog if message.id}
        assert wanted - ids == set(), f"{path} lacks {sorted(wanted - ids)}"
        assert ids - wanted == set(), f"{path} has messages no template uses: {sorted(ids - wanted)}"
        if path.parent.parent.name != "en":
            untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
            assert untranslated == [], f"{path} leaves {untranslated} untranslated"


@pytest.mark.parametrize("target, broken, offset, words", [
    ('msgstr "{name} 様"', 'msgstr "{nmae} 様"', -1, "names {nmae}, which the message does not have"),
    ('msgstr "ブラウザでこの号を読む：%(url)s"', 'msgstr "ブラウザでこの号を読む：%(link)s"', -1, "does not fit it: unknown named placeholder 'link'"),
    ('msgstr "下書き"', 'msgstr "下書き"\ntypo here', 1, "catalog does not parse: Unknown or misformatted keyword"),
])
def test_a_broken_catalog_is_an_error_naming_the_file_and_line(tmp_path, target, broken, offset, words):
    locale = tmp_path / "locale"
    shutil.copytree(REPO / "locale", locale)
    po = locale / "ja" / "LC_MESSAGES" / "digest.po"
    text = po.read_text(encoding="utf-8")
    line = text[: text.index(target)].count("\n") + 1 + offset  # the msgid above, or the bad line below
    po.write_text(text.replace(target, broken), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        translations(locale, "ja")
    assert (caught.value.path, caught.value.line) == (po, line)
    assert words in caught.value.message


def test_a_catalog_edit_is_picked_up_without_restarting(tmp_path):
    locale = tmp_path / "locale"
    shutil.copytree(REPO / "locale", locale)
    assert translations(locale, "ja-JP").gettext("Unsubscribe") == "配信停止"
    po = locale / "ja" / "LC_MESSAGES" / "digest.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "配信停止"', 'msgstr "配信を止める"'), encoding="utf-8")
    assert translations(locale, "ja").gettext("Unsubscribe") == "配信を止める"
    assert translations(locale, "fr").gettext("Unsubscribe") == "Unsubscribe", "no catalog: the English as written"


def test_a_new_language_is_a_catalog_file_and_a_line_in_issue_toml(tmp_path, make_issue, settings):
    from .conftest import with_table

    locale = tmp_path / "locale"
    shutil.copytree(REPO / "locale", locale)
    (locale / "fr" / "LC_MESSAGES").mkdir(parents=True)
    english = (locale / "en" / "LC_MESSAGES" / "digest.po").read_text(encoding="utf-8")
    french = english.replace("Language: en", "Language: fr").replace('msgid "Unsubscribe"\nmsgstr ""', 'msgid "Unsubscribe"\nmsgstr "Se désabonner"')
    (locale / "fr" / "LC_MESSAGES" / "digest.po").write_text(french, encoding="utf-8")
    folder = make_issue({"issue.toml": BILINGUAL_TOML.replace('["en", "ja"]', '["en", "ja", "fr"]'), "two.md": TWO})
    editions = render_editions(load_issue(folder), with_table(settings, "paths", locale=str(locale)))
    html, _ = merged(editions["fr"])
    assert list(editions) == ["en", "ja", "fr"] and '<html lang="fr"' in html and "Se désabonner" in html
    assert "30 janvier 2026" not in html and "31 janvier 2026" in html, "Babel formats the French date"


def test_link_checking_covers_links_a_translation_sets_and_checks_inherited_ones_once():
    from digest.sources.linkcheck import link_targets

    targets = [(t.url, t.path.name, t.line) for t in link_targets(load_issue(FIXTURE))]
    assert ("https://example.org/ja/notes/cycle-lanes", "02-cycle-lanes.ja.md", 3) in targets
    assert [url for url, _, _ in targets].count("https://example.org/notes/solar-schools") == 1


def test_an_unknown_fallback_is_a_one_line_error_naming_the_config(tmp_path):
    from click.testing import CliRunner

    from digest.cli import cli

    config = tmp_path / "config.toml"
    text = (REPO / "config.toml").read_text(encoding="utf-8").replace('fallback = "default"', 'fallback = "english"')
    config.write_text(text.replace('templates = "templates"', f'templates = "{REPO / "templates"}"'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "build", str(FIXTURE), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {config}: [i18n] fallback must be one of 'default', 'omit', got 'english'"]
