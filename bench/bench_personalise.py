"""Personalised messages (with their RFC 5322 bytes) for N members: MessageFactory
against the naive loop, a new ``EmailMessage`` per member with set_content,
add_alternative and as_bytes, measured side by side.

Both start from the same rendered issue and the same per-member HTML and text
(the naive loop merges them with ``RenderedIssue.personalise``), so the ratio is the
cost of building MIME per member, not of rendering. Rounds alternate between the two.

    .venv/bin/python bench/bench_personalise.py [--members 10000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from digest.config import load_settings
from digest.content import load_issue
from digest.render import render_issue
from digest.render.mime import MessageFactory
from digest.members.tokens import unsubscribe_url

BENCH_SECRET = "bench-secret"

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.toml", environ={})
    rendered = render_issue(load_issue(REPO / "issues" / "2015-10"), settings)
    members = [(f"member{n}@example.org", f"Member {n}", {"city": f"City {n}"}) for n in range(args.members)]
    newsletter = settings.newsletter

    def digest_factory() -> int:
        factory = MessageFactory(rendered, settings, BENCH_SECRET)
        return sum(len(factory.personalise(email, name, fields).raw) for email, name, fields in members)

    def naive_loop() -> int:
        total = 0
        for email, name, fields in members:
            link = unsubscribe_url(settings, BENCH_SECRET, email)
            html, text = rendered.personalise({**fields, "email": email, "name": name, "unsubscribe_url": link})
            message = EmailMessage()
            message["From"] = f"{newsletter.from_name} <{newsletter.from_email}>"
            message["To"] = f"{name} <{email}>"
            message["Subject"] = rendered.subject
            message["Date"] = formatdate(localtime=False)
            message["Message-ID"] = make_msgid(domain="iclei-japan.example.org")
            message["List-Unsubscribe"] = f"<{link}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            message.set_content(text)
            message.add_alternative(html, subtype="html")
            total += len(message.as_bytes())
        return total

    times: dict[str, list[float]] = {"MessageFactory.personalise(...).raw": [], "naive EmailMessage per member": []}
    for _ in range(args.rounds):
        for name, build in zip(times, (digest_factory, naive_loop)):
            start = time.perf_counter()
            build()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:40s} {value:7.2f} s for {args.members:,} members ({value / args.members * 1e6:6.1f} us each)")
    ours, naive = medians.values()
    print(f"ratio naive / digest: {naive / ours:.1f}x faster")


if __name__ == "__main__":
    main()
