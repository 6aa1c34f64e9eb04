"""Request bytes and build time for 1,000 members through each HTTP backend, side by side.

Mailgun and SendGrid send the issue once per call with per-member placeholders; Postmark,
Resend and SES send every member's whole message. This prints what each costs to build
and put on the wire (offline: requests are prepared, not sent), as ratios to Mailgun's.

    .venv/bin/python bench/bench_http.py [--members 1000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import requests

from digest.delivery.backends import get_backend
from digest.config import load_settings
from digest.content import load_issue
from digest.render import render_issue
from digest.render.mime import MessageFactory

REPO = Path(__file__).resolve().parent.parent
BACKENDS = ["mailgun", "sendgrid", "postmark", "resend", "ses"]


def prepared_bytes(backend, messages) -> int:
    """Bytes of every request the backend would make for ``messages``."""
    total = 0
    for start in range(0, len(messages), backend.max_batch):
        for part in backend.split(messages[start:start + backend.max_batch]):
            request = backend.build_request(part)
            if request.json is not None:
                total += len(json.dumps(request.json, ensure_ascii=False).encode())
            else:
                files = [(k, (None, v)) for k, v in request.form]
                total += len(requests.Request("POST", "http://127.0.0.1/", files=files).prepare().body)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for variable in ("POSTMARK_SERVER_TOKEN", "MAILGUN_API_KEY", "SENDGRID_API_KEY", "RESEND_API_KEY",
                     "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(variable, "bench-not-a-secret")
    settings = load_settings(REPO / "config.toml", environ={})
    factory = MessageFactory(render_issue(load_issue(REPO / "issues" / "2015-10"), settings), settings, "bench")
    backends = {name: get_backend(settings, name) for name in BACKENDS}
    times: dict[str, list[float]] = {name: [] for name in BACKENDS}
    sizes: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, backend in backends.items():
            messages = [factory.personalise(f"member{n}@example.org", f"Member {n}") for n in range(args.members)]
            start = time.perf_counter()
            sizes[name] = prepared_bytes(backend, messages)
            times[name].append(time.perf_counter() - start)
    base_time, base_size = statistics.median(times["mailgun"]), sizes["mailgun"]
    print(f"{args.members} members of the seed issue, median of {args.rounds} rounds (personalise not included)")
    for name in BACKENDS:
        median = statistics.median(times[name])
        print(f"{name:9s} {sizes[name] / 1e6:8.2f} MB ({sizes[name] / base_size:5.1f}x mailgun)"
              f"  build {median * 1000:8.1f} ms ({median / base_time:5.1f}x mailgun)")


if __name__ == "__main__":
    main()
