"""The CLI: build writes four files, every command has help, user errors are one line."""
from __future__ import annotations

import email
import email.policy
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from digest import __version__
from digest.cli import cli

from .conftest import REPO, SEED_ISSUE


def run_digest(*args: str, cwd=REPO, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "digest", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_build_writes_the_four_files_per_language_and_reports_size(tmp_path):
    out = tmp_path / "out"
    proc = run_digest("build", str(SEED_ISSUE), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    names = {"email.html", "email.txt", "email.eml", "index.html"}
    assert {p.name for p in out.iterdir()} == names | {"ja"}
    assert {p.name for p in (out / "ja").iterdir()} == names
    written = [line.split(str(out) + "/", 1)[-1] for line in proc.stdout.splitlines()[:8]]
    assert written == ["email.html", "email.txt", "email.eml", "index.html", "ja/email.html", "ja/email.txt", "ja/email.eml", "ja/index.html"]
    assert "HTML size:" in proc.stdout and "bytes" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "Preview: digest preview, then open http://127.0.0.1:8025/issues/2015-10/"
    msg = email.message_from_bytes((out / "email.eml").read_bytes(), policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "member@example.org"
    text = msg.get_body(("plain",)).get_content()
    assert "Dear Sample Member," in text


def test_build_defaults_to_build_slug_under_the_config_folder(tmp_path):
    import shutil

    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copytree(SEED_ISSUE, tmp_path / "issues" / "2015-10")
    proc = run_digest("build", "issues/2015-10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "build" / "2015-10" / "email.eml").is_file()


def test_version_option_prints_the_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output or cli.commands[command].__class__.__name__ == "Group"


@pytest.mark.parametrize("group,command", [(name, sub) for name, group in sorted(cli.commands.items())
                                            if isinstance(group, click.Group) for sub in sorted(group.commands)])
def test_every_subcommand_has_help_with_an_example(group, command):
    result = CliRunner().invoke(cli, [group, command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_missing_issue_folder_is_one_line_error():
    proc = run_digest("build", "issues/no-such-issue")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == ["Error: issues/no-such-issue: not an issue folder (no such directory)"]


def test_unknown_config_key_is_one_line_error_naming_file_and_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[newsletter]\nname = "x"\nnmae = "y"\n')
    proc = run_digest("--config", str(config), "check", str(SEED_ISSUE))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"Error: {config}:3: unknown key 'nmae' in [newsletter]"


def test_environment_override_with_wrong_type_is_one_line_error():
    import os

    env = {**os.environ, "DIGEST_LIMITS_CLIP_BYTES": "lots"}
    proc = run_digest("check", str(SEED_ISSUE), env=env)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "Error: DIGEST_LIMITS_CLIP_BYTES: expected int, got 'lots'"
    assert "Traceback" not in proc.stderr


def test_environment_override_changes_the_setting(tmp_path):
    import os

    env = {**os.environ, "DIGEST_LIMITS_CLIP_BYTES": "1000"}
    proc = run_digest("check", str(SEED_ISSUE), env=env)
    assert proc.returncode == 1
    assert "over Gmail's clipping limit of 1,000" in proc.stderr
