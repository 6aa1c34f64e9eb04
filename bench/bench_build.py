"""Build time of the seed issue against a bare ``mjml2html`` call, measured side by side.

The bare call compiles the very MJML our templates produce, so the ratio shows what
loading, Jinja, CSS inlining, the text part and the MIME skeleton add on top of MRML.
Rounds alternate between the two so machine noise hits both alike.

    .venv/bin/python bench/bench_build.py [--rounds 20]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import mjml

from digest.render.build import sample_message
from digest.config import load_settings
from digest.content import load_issue
from digest.render import render_issue
from digest.render.issue import email_mjml

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.toml", environ={})
    issue_dir = REPO / "issues" / "2015-10"
    source = email_mjml(load_issue(issue_dir), settings)

    def full_build() -> None:
        fresh_settings = load_settings(REPO / "config.toml", environ={})
        rendered = render_issue(load_issue(issue_dir), fresh_settings)
        sample_message(rendered, fresh_settings).raw

    def bare_mjml() -> None:
        mjml.mjml2html(source, fonts={})

    full_build(), bare_mjml()  # warm imports and caches
    times: dict[str, list[float]] = {"digest build (load+render+inline+text+MIME)": [], "bare mjml2html": []}
    for _ in range(args.rounds):
        for name, fn in zip(times, (full_build, bare_mjml)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:48s} median {value * 1000:8.1f} ms over {args.rounds} rounds")
    full, bare = medians.values()
    print(f"ratio build / bare mjml2html: {full / bare:.1f}x")


if __name__ == "__main__":
    main()
