"""`digest preview`: a real server on loopback, fetched with requests, raw sockets and
headless chromium; edits to a private copy of the seed issue show up on the next fetch."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import pytest
import requests

from digest.config import load_settings
from digest.errors import ContentError
from digest.preview import create_server

from .conftest import REPO

SLUG = "2015-10"
CAFE_ITEM = "03-fourth-iclei-cafe.md"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs Debian's chromium with apt-get)")


@pytest.fixture
def project(tmp_path, seed_copy) -> Path:
    """A private project: the repo's config, templates and members around a copy of the seed issue."""
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copy(REPO / "members.example.csv", tmp_path / "members.example.csv")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copytree(REPO / "locale", tmp_path / "locale")
    return tmp_path


@pytest.fixture
def start(request):
    """Start a preview server in a thread on a free port; stopped after the test."""

    def start_server(settings, member: str | None = None):
        server = create_server(settings, "127.0.0.1", 0, member)
        thread = server.serve_in_thread()

        def stop():
            server.shutdown()
            server.server_close()
            thread.join(5)

        request.addfinalizer(stop)
        return server

    return start_server


@pytest.fixture(scope="module")
def repo_server():
    """One server over the repository's own files, for tests that only read."""
    server = create_server(load_settings(REPO / "config.toml", environ={}), "127.0.0.1", 0)
    thread = server.serve_in_thread()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def served(project, start):
    return start(load_settings(project / "config.toml", environ={}))


def get(server, path: str) -> requests.Response:
    return requests.get(server.url + path.lstrip("/"), timeout=30)


def edit(path: Path, old: str, new: str) -> str:
    """Replace text in a file and return the original, so the test can put it back."""
    original = path.read_text(encoding="utf-8")
    assert old in original
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    return original


def page_text(response: requests.Response) -> str:
    return unescape(response.text)


def test_index_lists_the_seed_issue_with_title_item_count_and_check_status(repo_server):
    response = get(repo_server, "/")
    assert response.status_code == 200
    row = re.search(r'<a href="/issues/2015-10/">2015-10</a>.*?</tr>', response.text, re.S).group(0)
    assert "ICLEI Japan News" in row and "2015-10-30" in row
    assert "9 items" in row
    assert "0 error(s), 9 warning(s)" in row, "each of the 9 items is not translated into Japanese"


def test_issue_page_shows_subject_headers_text_part_size_and_check_findings(project, served):
    edit(project / "issues" / SLUG / CAFE_ITEM, '+++\n', '+++\nimage = "http://example.org/cafe.png"\nimage_alt = "Café"\ndraft = true\n')
    raw = get(served, f"/issues/{SLUG}/").text
    text = unescape(raw)
    assert "ICLEI Japan News, October 2015 | イクレイ日本ニュース" in text
    headers = {name: unescape(value) for name, value in re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", raw)}
    assert headers["From"] == "ICLEI Japan News <news@iclei-japan.example.org>"
    assert headers["To"] == "Sample Member <member@example.org>"
    assert headers["Subject"] == "ICLEI Japan News, October 2015 | イクレイ日本ニュース"
    assert headers["Preheader"].startswith("A JCM brochure")
    assert re.fullmatch(r"<https://news\.iclei-japan\.example\.org/unsubscribe\?token=[\w-]+&lang=en>, <mailto:unsubscribe@.+>", headers["List-Unsubscribe"])
    assert "Dear Sample Member," in re.search(r'<pre class="text" id="text"[^>]*>(.*?)</pre>', text, re.S).group(1)
    assert re.search(r"HTML size: [\d,]+ bytes,\s+\d+% of Gmail's 102,000-byte clip limit", text)
    assert "Check: 1 error(s), 10 warning(s)" in text, "the draft, and 9 items not translated into Japanese"
    assert re.search(rf"error: <code>\S+/{SLUG}/{CAFE_ITEM}:2</code> image must be an https URL", text)
    assert re.search(rf"warning: <code>\S+/{SLUG}/{CAFE_ITEM}:4</code> item is still a draft", text)
    assert re.search(r"Built in \d+ ms", text)


def test_email_frames_serve_the_personalised_html_and_dark_mode_declares_a_dark_scheme(served):
    light = get(served, f"/issues/{SLUG}/email.html")
    dark = get(served, f"/issues/{SLUG}/email-dark.html")
    assert light.status_code == dark.status_code == 200
    assert "Dear Sample Member," in light.text
    assert light.headers["Content-Security-Policy"] == "script-src 'none'"
    assert 'content="dark"' not in light.text
    assert re.search(r'<meta name="color-scheme" content="dark"><style>:root \{ color-scheme: dark; \}</style></head>', dark.text)
    assert get(served, f"/issues/{SLUG}/email.txt").text.startswith("ICLEI Japan News\n")


def test_member_option_personalises_for_that_member_in_their_language_from_the_members_file(project, start):
    server = start(load_settings(project / "config.toml", environ={}), member="AIKO.tanaka@example.org")
    assert "Aiko Tanaka 様" in get(server, f"/issues/{SLUG}/email.html").text, "Aiko's language column says ja"
    assert "To</th><td>Aiko Tanaka &lt;aiko.tanaka@example.org&gt;" in get(server, f"/issues/{SLUG}/").text
    assert "Dear Aiko Tanaka," in get(server, f"/issues/{SLUG}/en/email.html").text


def test_unknown_member_is_an_error_naming_the_members_file(settings):
    with pytest.raises(ContentError, match="no member with address 'nobody@example.org'") as caught:
        create_server(settings, "127.0.0.1", 0, "nobody@example.org")
    assert caught.value.path.name == "members.example.csv"


def test_an_edited_item_is_served_on_the_next_request_and_changes_the_version(project, served):
    before = get(served, f"/issues/{SLUG}/version").text
    page = get(served, f"/issues/{SLUG}/").text
    assert f'data-version="{before}" data-version-url="/issues/{SLUG}/version"' in page
    edit(project / "issues" / SLUG / CAFE_ITEM, "The fourth session", "The FOURTH session, freshly edited,")
    assert get(served, f"/issues/{SLUG}/version").text != before
    assert "The FOURTH session, freshly edited," in get(served, f"/issues/{SLUG}/email.html").text


def test_a_broken_item_shows_its_file_and_line_in_the_page_and_fixing_it_brings_the_email_back(project, served):
    item = project / "issues" / SLUG / CAFE_ITEM
    original = edit(item, "+++\nThe fourth", 'colour = "unknown key"\n+++\nThe fourth')
    page = page_text(get(served, f"/issues/{SLUG}/"))
    error = re.search(r'<p class="banner error" id="render-error">(.*?)</p>', page).group(1)
    assert re.fullmatch(rf"\S+/{CAFE_ITEM}:3: unknown key 'colour'.*", error)
    assert 'id="desktop"' not in page
    assert get(served, f"/issues/{SLUG}/email.html").status_code == 503
    assert get(served, f"/issues/{SLUG}/email.txt").status_code == 503
    index = page_text(get(served, "/"))
    assert re.search(rf'<td colspan="3" class="error">\S+/{CAFE_ITEM}:3: unknown key', index)
    assert "1 error(s), 9 warning(s)" in index
    item.write_text(original, encoding="utf-8")
    page = get(served, f"/issues/{SLUG}/").text
    assert 'id="render-error"' not in page and 'id="desktop"' in page
    assert "The fourth session" in get(served, f"/issues/{SLUG}/email.html").text


def test_a_broken_template_shows_the_template_file_and_line_and_fixing_it_brings_the_email_back(project, served):
    template = project / "templates" / "partials" / "item.mjml"
    original = edit(template, "{{ item.title }}{% endif %}", "{{ item.titel }}{% endif %}")
    error = page_text(get(served, f"/issues/{SLUG}/"))
    assert re.search(r'id="render-error">\S+/templates/partials/item\.mjml:\d+: unknown template variable', error)
    template.write_text(original, encoding="utf-8")
    assert "The fourth session" in get(served, f"/issues/{SLUG}/email.html").text


def test_config_changes_are_reloaded_and_a_broken_config_is_shown_until_fixed(project, served):
    config = project / "config.toml"
    original = edit(config, 'sample_member_name = "Sample Member"', 'sample_member_name = "Renamed Reader"')
    assert "Dear Renamed Reader," in get(served, f"/issues/{SLUG}/email.html").text
    edit(config, "[theme]", "[theme]\nacent = 1")
    page = page_text(get(served, "/"))
    assert re.search(r'id="config-error">Settings not reloaded .*: \S+/config\.toml:\d+: unknown key \'acent\' in \[theme\]', page)
    assert "9 items" in page
    config.write_text(original, encoding="utf-8")
    assert 'id="config-error"' not in get(served, "/").text
    assert "Dear Sample Member," in get(served, f"/issues/{SLUG}/email.html").text


def test_unchanged_files_are_served_from_cache_and_the_jinja_environment_is_reused(project, served):
    state = served.app.state
    first, env = state.preview(SLUG), state.environment()
    assert state.preview(SLUG) is first
    edit(project / "issues" / SLUG / CAFE_ITEM, "The fourth", "The 4th")
    rebuilt = state.preview(SLUG)
    assert rebuilt is not first and rebuilt.version != first.version
    assert state.environment() is env
    edit(project / "templates" / "email.txt", "{", "{{ '' }}{")
    assert state.environment() is not env


def raw_get(server, target: str, host: str | None = None) -> tuple[int, bytes]:
    """Send the request line exactly as given, which requests and browsers would normalise."""
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    return int(status_line.split()[1]), rest


@pytest.mark.parametrize("target", [
    "/../config.toml",
    "/issues/../config.toml",
    "/issues/%2e%2e/config.toml",
    "/issues/%2E%2E/%2E%2E/config.toml",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/issues/2015-10/../../config.toml",
    "/issues/2015-10/%2e%2e%2f%2e%2e%2fconfig.toml",
    "/issues/..%2f..%2fconfig.toml",
    "/issues/2015-10/issue.toml",
    f"/issues/2015-10/{CAFE_ITEM}",
    "/config.toml",
    "/templates/email.mjml",
    "/etc/passwd",
    "//etc/passwd",
    "/issues//etc/passwd",
    "/issues/%2fetc%2fpasswd/",
    "http://127.0.0.1/config.toml",
    "/work/main/config.toml",
])
def test_paths_outside_the_rendered_pages_are_not_found(repo_server, target):
    status, body = raw_get(repo_server, target)
    assert status == 404
    assert b"unsubscribe_secret_env" not in body and b"root:" not in body and b"+++" not in body


def test_raw_requests_for_rendered_pages_succeed(repo_server):
    assert raw_get(repo_server, "/issues/2015-10/")[0] == 200
    assert raw_get(repo_server, "/issues/2015%2D10/email.txt")[0] == 200


def test_a_foreign_host_name_is_refused_so_dns_rebinding_cannot_read_previews(repo_server):
    assert raw_get(repo_server, "/", host="attacker.example")[0] == 421
    assert raw_get(repo_server, "/", host=f"localhost:{repo_server.server_address[1]}")[0] == 200


def test_listens_on_loopback_by_default(settings):
    server = create_server(settings, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_cli_with_port_zero_prints_the_actual_url_and_serves_it():
    proc = subprocess.Popen([sys.executable, "-m", "digest", "preview", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url and url.group(1) != "0", line + proc.stderr.read() if proc.poll() is not None else line
        assert "9 items" in requests.get(url.group(0), timeout=30).text
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_unknown_member_is_one_line_error():
    proc = subprocess.run([sys.executable, "-m", "digest", "preview", "--port", "0", "--member", "nobody@example.org"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: {REPO / 'members.example.csv'}: no member with address 'nobody@example.org'"]


def test_cli_port_in_use_is_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "digest", "preview", "--port", str(port)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"chromium-profile-{time.monotonic_ns()}"
    proc = subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def measurements(dom: str) -> dict[str, dict[str, str]]:
    """The data-* attributes the issue page's script writes after the frames load."""
    found = {}
    for name in ("phone-fit", "dark-check"):
        tag = re.search(rf'<output id="{name}"([^>]*)>', dom).group(1)
        found[name] = dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag))
    return found


@needs_chromium
def test_in_chromium_the_email_fits_a_375px_phone_and_its_dark_rules_apply(served, tmp_path):
    dom = chromium(tmp_path, "--window-size=1400,900", "--dump-dom", f"{served.url}issues/{SLUG}/")
    found = measurements(dom)
    phone = found["phone-fit"]
    assert int(phone["client-width"]) == 375
    assert int(phone["scroll-width"]) <= int(phone["client-width"])
    dark = found["dark-check"]
    assert dark["prefers-dark"] == "true"
    assert dark["light-background"] == "rgb(243, 244, 241)"
    assert dark["dark-background"] == "rgb(17, 21, 19)"
    screenshot = tmp_path / "email-375.png"
    chromium(tmp_path, "--window-size=375,2400", f"--screenshot={screenshot}", f"{served.url}issues/{SLUG}/email.html")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_in_chromium_the_phone_check_reports_an_email_wider_than_the_screen(project, served, tmp_path):
    edit(project / "templates" / "email.mjml", 'css-class="page">', 'css-class="page"><mj-raw><div style="width:900px">wide</div></mj-raw>')
    dom = chromium(tmp_path, "--window-size=1400,900", "--dump-dom", f"{served.url}issues/{SLUG}/")
    phone = measurements(dom)["phone-fit"]
    assert int(phone["scroll-width"]) > int(phone["client-width"])
    assert "scrolls sideways" in dom


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@needs_chromium
def test_in_chromium_an_open_page_reloads_itself_after_an_edit(project, served, tmp_path):
    requested: list[tuple[float, str]] = []
    respond = served.app.respond

    def recording(raw_path: str):
        requested.append((time.monotonic(), raw_path))
        return respond(raw_path)

    served.app.respond = recording
    page_path = f"/issues/{SLUG}/"
    browser = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--remote-debugging-port=0", served.url + page_path.lstrip("/")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert wait_until(lambda: any(path.endswith("/version") for _, path in requested), 30), "the page never polled"
        edited = time.monotonic()
        edit(project / "issues" / SLUG / CAFE_ITEM, "The fourth session", "The reloaded session")
        assert wait_until(lambda: any(t > edited and path == page_path for t, path in requested), 10), "the page did not reload"
    finally:
        os.killpg(browser.pid, signal.SIGTERM)
        browser.wait(10)
    assert "The reloaded session" in get(served, f"/issues/{SLUG}/email.html").text
