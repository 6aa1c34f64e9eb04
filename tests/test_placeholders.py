"""Issue text that looks like a per-member placeholder stays text: it never becomes a
member's value (name, address, unsubscribe link) and never crashes a command."""
from __future__ import annotations

from click.testing import CliRunner

from digest.cli import cli
from digest.content import load_issue
from digest.render import render_issue, render_web_page
from digest.render.mime import MessageFactory

from .conftest import MINIMAL_ISSUE_TOML, REPO
from .provider_formats import mailgun_deliveries, sendgrid_deliveries

# The fixed token shapes of earlier versions, one far past the last slot, and the
# placeholders the merge backends' providers fill in themselves.
SHAPES = ("__digest_slot_0__", "__digest_slot_1__", "__digest_slot_999__",
          "%recipient.h0%", "%recipient.t0%", "%recipient.list_unsubscribe%", "%digest_h0%", "%digest_t1%")
SHAPED = " ".join(SHAPES)
MEMBER = ("member.secret@example.org", "Secret Name")


def shaped_issue(make_issue):
    toml = (MINIMAL_ISSUE_TOML
            .replace('title = "Test issue"', f'title = "Issue {SHAPED}"')
            .replace('preheader = "Preheader"', f'preheader = "Pre {SHAPED}"\nintro = "Intro {SHAPED}"')
            .replace('title = "News"', f'title = "News {SHAPED}"'))
    item = f'+++\ntitle = "Item {SHAPED}"\nlink = "https://example.org/one"\n+++\nBody {SHAPED}\n'
    return make_issue({"issue.toml": toml, "one.md": item})


def personal(html_or_text: str) -> list[str]:
    """Which of the member's own values appear."""
    return [value for value in (*MEMBER, "token=") if value in html_or_text]


def test_placeholder_shaped_text_renders_as_itself_for_a_member(make_issue, settings):
    rendered = render_issue(load_issue(shaped_issue(make_issue)), settings)
    plain = MessageFactory(render_issue(load_issue(make_issue(name="plain")), settings), settings, "secret")
    baseline = plain.personalise(*MEMBER)
    message = MessageFactory(rendered, settings, "secret").personalise(*MEMBER)
    for part, reference in ((message.html, baseline.html), (message.text, baseline.text)):
        for shape in SHAPES:
            assert shape in part
        for value in personal(reference):
            assert part.count(value) == reference.count(value), value


def test_placeholder_shaped_text_is_plain_text_on_the_web_page(make_issue, settings):
    page = render_web_page(load_issue(shaped_issue(make_issue)), settings)
    assert all(shape in page for shape in SHAPES)
    assert personal(page) == []


def test_each_render_draws_its_own_tokens(make_issue, settings):
    issue = load_issue(make_issue())
    first, second = render_issue(issue, settings), render_issue(issue, settings)
    assert first.html.key != second.html.key
    assert first.html.key not in "".join(second.html.literals)


def test_build_and_check_of_placeholder_shaped_issue_succeed(make_issue, tmp_path):
    folder = shaped_issue(make_issue)
    config = ["--config", str(REPO / "config.toml")]
    built = CliRunner().invoke(cli, [*config, "build", str(folder), "--out", str(tmp_path / "out")])
    assert built.exit_code == 0, built.output
    assert built.exception is None or isinstance(built.exception, SystemExit)
    for name in ("email.html", "email.txt", "index.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "__digest_slot_999__" in text and "%recipient.list_unsubscribe%" in text, name
    checked = CliRunner().invoke(cli, [*config, "check", str(folder)])
    assert checked.exception is None or isinstance(checked.exception, SystemExit)
    assert "Traceback" not in checked.output


def test_providers_leave_placeholder_shaped_item_text_alone(make_issue, settings, provider_backend):
    factory = MessageFactory(render_issue(load_issue(shaped_issue(make_issue)), settings), settings, "test-secret")
    batch = [factory.personalise(*MEMBER), factory.personalise("other@example.org", "Other")]
    bodies = {
        "mailgun": lambda request, to: (mailgun_deliveries(request)[to]["html"], mailgun_deliveries(request)[to]["text"]),
        "sendgrid": lambda request, to: (sendgrid_deliveries(request)[to]["content"]["text/html"],
                                         sendgrid_deliveries(request)[to]["content"]["text/plain"]),
    }
    for name, delivered in bodies.items():
        backend, server = provider_backend(name)
        with backend:
            backend.send_batch(batch)
        [request] = server.requests
        for message in batch:
            html, text = delivered(request, message.recipient)
            assert (html, text) == (message.html, message.text), name
            assert all(shape in text for shape in SHAPES), name


def test_sent_messages_carry_placeholder_shaped_text_as_text(make_issue, tmp_path):
    import email
    import email.policy

    from .conftest import write_members

    folder = shaped_issue(make_issue)
    members = write_members(tmp_path / "members.csv", 2)
    env = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
           "DIGEST_UNSUBSCRIBE_SECRET": "s3cret"}
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config.toml"), "send", str(folder), "--members", str(members), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    sent = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert len(sent) == 2
    for path in sent:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()
        assert all(shape in text for shape in SHAPES)
        other = "m0001" if "m0000" in message["To"] else "m0000"
        assert f"{other}@example.org" not in text and f"{other}%40example.org" not in text
