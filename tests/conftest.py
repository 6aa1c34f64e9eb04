"""Shared fixtures: the repository's own config and the seed issue, and a builder of
small issue folders for the error corpus."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest.config import load_settings

REPO = Path(__file__).resolve().parent.parent
SEED_ISSUE = REPO / "issues" / "2015-10"
# The page the seed issue was made from, kept in the repository so a fresh clone can compare against it.
SEED_TEXT = REPO / "tests" / "fixtures" / "seed" / "iclei-japan-news-2015-10.txt"


@pytest.fixture(autouse=True, scope="session")
def _private_state_home(tmp_path_factory):
    """Module- and session-scoped fixtures that send must not leave a trail of sends in
    the real ~/.local/state either: one private state folder for the whole session,
    which each test then replaces with its own."""
    import os

    before = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("session-state"))
    yield
    if before is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = before


@pytest.fixture(autouse=True)
def _clean_digest_environment(monkeypatch, tmp_path_factory):
    """Tests must not see a developer's DIGEST_* overrides, nor leave a trail of sends
    in the developer's ~/.local/state (each test gets its own)."""
    import os

    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def settings():
    return load_settings(REPO / "config.toml", environ={})


@pytest.fixture
def seed_items() -> list[tuple[str, str]]:
    """(title, body) pairs straight from the seed page, in its order."""
    text = SEED_TEXT.read_text(encoding="utf-8")
    blocks = [b.strip("\n") for b in text.split("\n\n\n") if b.strip()]
    assert blocks[0] == "ICLEI Japan News"
    return [tuple(block.split("\n\n", 1)) for block in blocks[1:]]


@pytest.fixture
def seed_copy(tmp_path) -> Path:
    """A private copy of the seed issue to edit."""
    target = tmp_path / "issues" / "2015-10"
    shutil.copytree(SEED_ISSUE, target)
    return target


MINIMAL_ISSUE_TOML = '''title = "Test issue"
date = 2026-01-31
subject = "Test subject"
preheader = "Preheader"

[[sections]]
title = "News"
items = ["one.md"]
'''

MINIMAL_ITEM = '''+++
title = "Item one"
link = "https://example.org/one"
+++
Body of item one.
'''


@pytest.fixture
def make_issue(tmp_path):
    """Write an issue folder from {filename: text}; defaults give a valid issue."""

    def make(files: dict[str, str | bytes | None] | None = None, name: str = "test-issue") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        contents: dict[str, str | bytes | None] = {"issue.toml": MINIMAL_ISSUE_TOML, "one.md": MINIMAL_ITEM}
        contents.update(files or {})
        for filename, text in contents.items():
            if text is None:
                continue
            path = folder / filename
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        return folder

    return make


@pytest.fixture(scope="session")
def seed_rendered():
    """The seed issue rendered once for the whole session (the expensive step)."""
    from digest.content import load_issue
    from digest.render import render_issue

    return render_issue(load_issue(SEED_ISSUE), load_settings(REPO / "config.toml", environ={}))


@pytest.fixture
def seed_factory(seed_rendered, settings):
    from digest.render.mime import MessageFactory

    return MessageFactory(seed_rendered, settings, "test-secret")


@pytest.fixture
def fake_provider():
    """Start loopback provider servers; each must end the test without format problems."""
    from .fake_provider import FakeProvider

    started = []

    def start(check, answer):
        server = FakeProvider(check, answer).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
    for server in started:
        assert server.problems == [], f"requests broke the provider's documented format: {server.problems}"


def with_table(settings, table: str, **values):
    """Settings with some keys of one table replaced (e.g. base_url = a fake provider)."""
    from dataclasses import replace

    return replace(settings, tables={**settings.tables, table: {**settings.tables[table], **values}})


@pytest.fixture
def provider_backend(settings, fake_provider, monkeypatch):
    """``make(name, answer=None, **config)`` -> (backend, fake server): a backend from
    config pointed at a loopback fake of its provider, with its secrets in the environment."""
    from digest.delivery.backends import get_backend

    from .provider_formats import PROVIDERS

    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)

    def make(name, answer=None, **config):
        provider = PROVIDERS[name]
        server = fake_provider(provider.check, answer or provider.accept)
        for variable, value in provider.environ.items():
            monkeypatch.setenv(variable, value)
        configured = with_table(settings, name, base_url=server.url, **{**provider.settings, **config})
        return get_backend(configured, name), server

    return make
@pytest.fixture
def smtp_sink():
    """A recording SMTP server on 127.0.0.1 without TLS; yields (handler, port)."""
    from .smtp_sink import SinkHandler, start_sink

    handler = SinkHandler()
    controller = start_sink(handler)
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """(cert, key) of a self-signed certificate for 127.0.0.1."""
    from .smtp_sink import make_certificate

    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def write_members(path: Path, count: int, extra_rows: str = "") -> Path:
    """A members CSV of ``count`` members m0000@example.org..., then ``extra_rows`` verbatim."""
    rows = "".join(f"m{n:04d}@example.org,Member {n},en,,City {n}\n" for n in range(count))
    path.write_text("email,name,language,tags,city\n" + rows + extra_rows, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server's URL (see tests/postgres.py); skips, or under CI fails, without one."""
    import os

    from . import postgres

    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing(f"psycopg is not installed: {postgres.INSTALL_HINT}")
    url = os.environ.get("DIGEST_TEST_POSTGRES_URL", postgres.DEFAULT_URL)
    if postgres.answers(url):
        yield url
        return
    try:
        server = postgres.ThrowawayServer()
        started = server.start()
    except RuntimeError as exc:
        _missing(f"no PostgreSQL server at {url} and none could be started ({exc}): {postgres.INSTALL_HINT}")
    try:
        yield started
    finally:
        server.stop()


def _missing(reason: str):
    import os

    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
    pytest.skip(reason)


ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(params=ENGINES)
def ledger_target(request, tmp_path):
    """Where a test's ledger lives, once per engine: a file in ``tmp_path``, or a
    fresh schema on the PostgreSQL server (dropped afterwards)."""
    if request.param == "sqlite":
        yield tmp_path / "ledger.sqlite"
        return
    from .postgres import drop_schema, new_schema, with_schema

    server = request.getfixturevalue("postgres_url")
    schema = new_schema(server)
    try:
        yield with_schema(server, schema)
    finally:
        drop_schema(server, schema)


@pytest.fixture
def ledger_in_env(ledger_target, monkeypatch):
    """``ledger_target``, also named by DIGEST_LEDGER_* in the environment, so ``digest``
    commands run in-process in the test use it (a URL wins over a path)."""
    for name, value in ledger_env(ledger_target).items():
        monkeypatch.setenv(name, value)
    return ledger_target


def untouched(target) -> bool:
    """Nothing was recorded: no ledger file, or no send run in the database."""
    from digest.store.ledger import SendLedger

    if isinstance(target, Path):
        return not target.exists()
    with SendLedger(target) as ledger:
        return ledger.db.execute("SELECT COUNT(*) FROM sends").fetchone()[0] == 0


def ledger_env(target) -> dict[str, str]:
    """The DIGEST_LEDGER_* variable that points digest at ``target``."""
    if isinstance(target, Path):
        return {"DIGEST_LEDGER_PATH": str(target)}
    return {"DIGEST_LEDGER_URL": str(target)}


def settings_with(tmp_path: Path, ledger=None, **overrides):
    """The repository's config with the outbox in ``tmp_path``, the ledger at ``ledger``
    (default: a file in ``tmp_path``) and ``table_key=value`` overrides (as
    DIGEST_TABLE_KEY variables would give)."""
    environ = {"DIGEST_OUTBOX_PATH": str(tmp_path / "outbox"), "DIGEST_SENDING_BACKOFF": "0.001",
               **ledger_env(ledger if ledger is not None else tmp_path / "ledger.sqlite")}
    environ.update({f"DIGEST_{key.upper()}": str(value) for key, value in overrides.items()})
    return load_settings(REPO / "config.toml", environ=environ)


@pytest.fixture
def website():
    """The loopback web site of tests/website.py, serving whatever a test adds."""
    from .website import running_website

    with running_website() as site:
        yield site


@pytest.fixture
def newsroom(tmp_path, website):
    """A config.toml whose issues live in tmp_path/issues and whose feeds are on the test server."""
    from .newsroom import write_config

    return write_config(tmp_path, website)


@pytest.fixture
def issue(tmp_path):
    """tmp_path/issues/2026-01 with two sections and two items, and comments to keep."""
    from .newsroom import write_issue

    return write_issue(tmp_path / "issues" / "2026-01")


@pytest.fixture
def two_issues(tmp_path, issue):
    """A January issue (the previous one) and a February issue to pull into."""
    from .newsroom import ISSUE_TOML, write_issue

    february = write_issue(tmp_path / "issues" / "2026-02", ISSUE_TOML.replace("2026-01-31", "2026-02-27"))
    (tmp_path / "issues" / "2025-12").mkdir()
    (tmp_path / "issues" / "2025-12" / "issue.toml").write_text('date = 2025-12-20\n', encoding="utf-8")
    return february
