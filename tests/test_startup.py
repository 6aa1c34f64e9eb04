"""Start-up: the CLI loads each command's machinery only when that command runs."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from digest.cli import cli
from digest.cli.members import BOUNCE_FORMATS
from digest.members.bounces import PARSERS

from .conftest import REPO, SEED_ISSUE

HEAVY = ("premailer", "cssutils", "requests", "feedparser", "botocore", "psycopg", "dns", "dkim", "cryptography",
         "publicsuffixlist")


def modules_loaded_by(*args: str) -> set[str]:
    """Run the CLI in a fresh interpreter and report which heavy modules it imported."""
    code = (
        "import json, sys\n"
        "from digest.cli import cli\n"
        f"try:\n    cli({list(args)!r}, prog_name='digest')\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["send", "--help"], ["status", "--help"], ["bounces", "import", "--help"],
                                  ["doctor", "--help"], ["item", "mv", "--help"], ["section", "rename", "--help"]])
def test_help_imports_no_heavy_dependency(args):
    assert modules_loaded_by(*args) == set()


def test_status_imports_no_heavy_dependency():
    assert modules_loaded_by("status", str(SEED_ISSUE)) == set()


def test_check_without_links_loads_the_renderer_but_no_feed_library():
    loaded = modules_loaded_by("check", str(SEED_ISSUE))
    assert "premailer" in loaded  # the size check renders the issue
    assert not loaded & {"feedparser", "botocore", "psycopg"}


def test_bounce_formats_named_in_the_cli_are_exactly_the_parsers():
    assert BOUNCE_FORMATS == sorted(PARSERS)


def test_every_command_is_registered():
    assert sorted(cli.commands) == ["add", "archive", "bounces", "build", "check", "doctor", "item", "members", "new",
                                    "preview", "pull", "section", "send", "serve", "serve-unsubscribe", "status",
                                    "suppress"]
