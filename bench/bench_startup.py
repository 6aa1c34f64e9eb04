"""Whole-process wall time of everyday commands, and of ``digest build`` against the
official MJML CLI compiling the same MJML, measured side by side in one run.

Commands run in turn, round after round, so machine noise hits all alike; the median
is reported. The MJML CLI is found with ``npx --no-install mjml`` (install it with
``npm install mjml`` in this folder or globally); without Node or mjml that comparison
is skipped with a note.

    .venv/bin/python bench/bench_startup.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digest.config import load_settings
from digest.content import load_issue
from digest.render.issue import email_mjml

REPO = Path(__file__).resolve().parent.parent
ISSUE = REPO / "issues" / "2015-10"


def mjml_source() -> str:
    """The MJML our templates produce for the seed issue: what both compilers are given."""
    return email_mjml(load_issue(ISSUE), load_settings(REPO / "config.toml", environ={}))


def mjml_cli() -> list[str] | None:
    npx = shutil.which("npx")
    if npx is None:
        return None
    probe = subprocess.run([npx, "--no-install", "mjml", "--version"], cwd=REPO, capture_output=True, text=True)
    return [npx, "--no-install", "mjml"] if probe.returncode == 0 else None


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    digest = [sys.executable, "-m", "digest"]
    work = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    commands = {
        "digest --help": digest + ["--help"],
        "digest status issues/2015-10": digest + ["status", str(ISSUE)],
        "digest check issues/2015-10": digest + ["check", str(ISSUE)],
        "digest build issues/2015-10": digest + ["build", str(ISSUE), "--out", str(work / "build")],
    }
    cli = mjml_cli()
    if cli is not None:
        source = work / "email.mjml"
        source.write_text(mjml_source(), encoding="utf-8")
        commands["mjml CLI (same MJML)"] = cli + [str(source), "-o", str(work / "mjml.html")]
    else:
        print("note: no MJML CLI (`npx --no-install mjml` failed): install Node and `npm install mjml` to compare")
    for command in commands.values():
        timed(command)  # warm the page cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.rounds):
        for name, command in commands.items():
            times[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:32s} median {value * 1000:7.0f} ms over {args.rounds} rounds")
    if cli is not None:
        ratio = medians["digest build issues/2015-10"] / medians["mjml CLI (same MJML)"]
        print(f"ratio digest build / mjml CLI: {ratio:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
