"""The preflight: build and send refuse what check reports as errors (send refuses
drafts too), the findings for what templates and editors get wrong, and check's JSON."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.checks.preflight import check_issue, preflight
from digest.cli import cli
from digest.config import Theme
from digest.errors import PreflightError

from .conftest import MINIMAL_ITEM, REPO, SEED_ISSUE, with_table

NO_ALT = MINIMAL_ITEM.replace("+++\nBody", 'image = "https://example.org/a.png"\n+++\nBody')
DRAFT = MINIMAL_ITEM.replace("+++\nBody", "draft = true\n+++\nBody")


def run(tmp_path: Path, *args: str, **env: str):
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"), **env}
    return CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), *args], env=environ)


def test_build_refuses_an_issue_with_check_errors_and_writes_nothing(make_issue, tmp_path):
    folder = make_issue({"one.md": NO_ALT})
    result = run(tmp_path, "build", str(folder), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f'Error: {folder / "one.md"}:4: image has no image_alt text (screen readers and blocked images need it; image_alt = "" marks a decorative image)']
    assert not (tmp_path / "out").exists()


def test_send_refuses_an_issue_with_check_errors_and_sends_nothing(make_issue, tmp_path):
    folder = make_issue({"one.md": NO_ALT})
    members = tmp_path / "members.csv"
    members.write_text("email,name\na@example.org,A\n", encoding="utf-8")
    result = run(tmp_path, "send", str(folder), "--members", str(members), "--yes")
    assert result.exit_code == 1 and "no image_alt" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "outbox").exists() and not (tmp_path / "ledger.sqlite").exists()


def test_drafts_are_built_marked_but_never_sent(make_issue, tmp_path):
    folder = make_issue({"one.md": DRAFT})
    built = run(tmp_path, "build", str(folder), "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    assert "warning: item is still a draft" in built.output
    assert '<span class="draft"' in (tmp_path / "out" / "email.html").read_text()
    assert "[DRAFT] Item one" in (tmp_path / "out" / "email.txt").read_text()
    members = tmp_path / "members.csv"
    members.write_text("email,name\na@example.org,A\n", encoding="utf-8")
    sent = run(tmp_path, "send", str(folder), "--members", str(members), "--yes")
    assert sent.exit_code == 1
    assert f"{folder / 'one.md'}:4: item is still a draft" in sent.output and "send refuses drafts" in sent.output
    assert not (tmp_path / "outbox").exists()


def test_preflight_hands_back_the_rendered_sample_so_build_renders_once(settings):
    report = preflight(SEED_ISSUE, settings)
    assert report.errors == () and report.sample is not None
    assert report.sample.message.recipient == settings.newsletter.sample_member_email
    with pytest.raises(PreflightError):
        preflight(REPO / "no-such-issue", settings)


def test_check_json_lists_every_finding_and_exits_0_or_1(make_issue, tmp_path):
    clean = run(tmp_path, "check", str(make_issue()), "--format", "json", "--no-spamassassin")
    assert clean.exit_code == 0
    report = json.loads(clean.stdout)
    assert report["ok"] is True and report["errors"] == 0 and report["findings"] == []
    assert 0 < report["html_bytes"] < report["clip_bytes"]
    broken = run(tmp_path, "check", str(make_issue({"one.md": NO_ALT}, name="broken")), "--format", "json", "--no-spamassassin")
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["errors"] == 1
    assert report["findings"][0] | {"message": ""} == {"severity": "error", "message": "", "path": str(tmp_path / "broken" / "one.md"), "line": 4}


def test_address_in_an_item_url_is_an_error_at_its_line(make_issue, settings):
    item = MINIMAL_ITEM.replace("https://example.org/one", "https://example.org/one?utm_email=reader%40example.org")
    item += "\nAlso [the survey](https://example.org/survey?u=cmVhZGVyQGV4YW1wbGUub3Jn).\n"
    found = [(f.severity, f.path.name, f.line) for f in check_issue(make_issue({"one.md": item}), settings) if "email address" in f.message]
    assert found == [("error", "one.md", 3), ("error", "one.md", 7)]


def test_vague_body_link_text_warns_at_its_line(make_issue, settings):
    item = MINIMAL_ITEM + "\nFor the programme, [click here](https://example.org/p). [The full report](https://example.org/r).\n"
    found = [(f.severity, f.line, f.message) for f in check_issue(make_issue({"one.md": item}), settings) if "link text" in f.message]
    assert found == [("warning", 7, "link text 'click here' says nothing out of context: name what the link opens")]


@pytest.fixture
def templates_copy(tmp_path, settings):
    """(templates folder, settings using it): a theme to break on purpose."""
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    return templates, with_table(settings, "paths", templates=str(templates))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def messages_about(folder, settings, words: str) -> list[str]:
    return [f"{f.severity}: {f.path.name}: {f.message}" for f in check_issue(folder, settings) if words in f.message]


def test_a_template_link_carrying_the_address_is_an_error(make_issue, templates_copy):
    templates, settings = templates_copy
    edit(templates / "partials" / "footer.mjml", '<a href="{{ unsubscribe_url }}">', '<a href="{{ web_url }}?who={{ member.email }}">Update</a> <a href="{{ unsubscribe_url }}">')
    found = messages_about(make_issue(), settings, "email address")
    assert len(found) == 1 and found[0].startswith("error: email.mjml: a template link carries an email address")


def test_hidden_and_low_contrast_template_text_warns(make_issue, templates_copy):
    templates, settings = templates_copy
    edit(templates / "partials" / "footer.mjml", "<p>{{ newsletter.name }}",
         '<p style="display:none">Buy now</p><p style="color:#eeeeee">Fine print</p><p>{{ newsletter.name }}')
    assert messages_about(make_issue(), settings, "hidden") == [
        "warning: email.mjml: 1 piece(s) of text are hidden (display:none, zero size or opacity), e.g. 'Buy now': spam filters score hidden text"]
    low = messages_about(make_issue(name="again"), settings, "contrast")
    assert len(low) == 1 and "#eeeeee on #f3f4f1" in low[0] and "'Fine print'" in low[0]


def test_theme_colours_below_aa_contrast_warn_at_their_config_line(make_issue, settings):
    theme = {**settings.tables["theme"], "muted": "#aab0ac", "dark_accent": "#1f5f4a"}
    weak = replace(settings, theme=Theme(**theme), tables={**settings.tables, "theme": theme})
    found = [(f.path.name, f.line, f.message) for f in check_issue(make_issue(), weak) if "contrast" in f.message]
    assert {(name, message.split(" has ")[0]) for name, _, message in found} == {
        ("config.toml", "[theme] muted #aab0ac on card #ffffff"),
        ("config.toml", "[theme] muted #aab0ac on background #f3f4f1"),
        ("config.toml", "[theme] dark_accent #1f5f4a on dark_card #1c211e"),
        ("config.toml", "[theme] dark_accent #1f5f4a on dark_background #111513"),
    }
    lines = (REPO / "config.toml").read_text().splitlines()
    assert all(lines[line - 1].startswith(message.split()[1]) for _, line, message in found)


def test_heading_that_skips_a_level_warns(make_issue, templates_copy):
    templates, settings = templates_copy
    edit(templates / "partials" / "section.mjml", '{% set heading = "h3" if section.title else "h2" %}', '{% set heading = "h4" %}')
    assert messages_about(make_issue(), settings, "skipping a level") == [
        "warning: email.mjml: heading <h4> follows <h2>, skipping a level: screen readers announce the outline"]


def test_vague_template_link_text_warns(make_issue, templates_copy):
    templates, settings = templates_copy
    edit(templates / "partials" / "header.mjml", '{{ _("View this issue in your browser") }}</a>', "Click here</a>")
    assert len(messages_about(make_issue(), settings, "says nothing out of context")) == 1


def test_style_block_over_gmails_16_kb_warns(make_issue, templates_copy):
    templates, settings = templates_copy
    rules = "".join(f"  .unused-{n} {{ color: #123456; }}\n" for n in range(900))
    edit(templates / "partials" / "styles.mjml", "    :root {", rules.replace("  .", "    [data-x] .") + "    :root {")
    found = messages_about(make_issue(), settings, "<style> block")
    assert len(found) == 1 and "Gmail drops a block over 16,384 bytes" in found[0]


def test_spamassassin_score_is_a_note_with_its_rules(make_issue, tmp_path):
    if not shutil.which("spamassassin"):
        pytest.skip("spamassassin is not installed (.ci/run installs it)")
    result = run(tmp_path, "check", str(make_issue()), "--format", "json")
    notes = [f["message"] for f in json.loads(result.stdout)["findings"] if f["severity"] == "note"]
    assert len(notes) == 1 and notes[0].startswith("SpamAssassin (local tests) scores the sample message -0.0 (spam at 5.0)")
    assert "HTML_MESSAGE" in notes[0]


def test_missing_spamassassin_is_a_note_not_an_error(make_issue, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run(tmp_path, "check", str(make_issue()))
    assert result.exit_code == 0
    assert "note: spamassassin is not installed" in result.output


def test_seed_issue_passes_the_send_preflight(settings):
    report = preflight(SEED_ISSUE, settings, for_send=True)
    warnings = [f.message for f in report.findings if f.severity == "warning"]
    assert report.errors == () and all(m.startswith("not translated into ja") for m in warnings), report.findings
    assert len(warnings) == 9, "only the seed's items without a Japanese translation"
