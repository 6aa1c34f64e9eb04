"""What a second language costs: build time for two editions against one, the cost per
member of picking an edition, and a preview rebuild against the old way of rendering twice.

- build: load, render and make the sample member's message for the seed issue's English
  edition only, against both editions (expect about 2x: each language is one render).
- per member: personalising members with one MessageFactory, against MessageFactories
  choosing each member's edition from their language column (expect about 1x).
- preview rebuild: today's (load, check, render every language once; the check's size
  finding reuses those renderings) with two languages, against the old one-language
  rebuild, which rendered once for the check and again for the page.

Rounds alternate the cases so machine noise hits them alike.

    .venv/bin/python bench/bench_languages.py [--rounds 15] [--members 5000]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Callable

from digest.checks.preflight import ISSUE_CHECKS
from digest.config import load_settings
from digest.content import load_issue
from digest.preview.state import PreviewMember, build_preview
from digest.render.build import sample_message
from digest.render.issue import build_environment, render_editions, render_issue
from digest.render.mime import MessageFactories, MessageFactory

REPO = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-for-timing-only"  # any string: tokens are sealed with it, never verified here
ISSUE = REPO / "issues" / "2015-10"
LANGUAGES = ["en", "ja", "ja-JP", "", "fr"]


def timed(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    for fn in cases.values():
        fn()  # warm imports, catalogs and the Jinja cache
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"  {name:58s} median {value * 1000:9.1f} ms")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--members", type=int, default=5000)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.toml", environ={})
    env = build_environment(settings)

    def build(languages: int) -> Callable[[], object]:
        def run() -> None:
            issue = load_issue(ISSUE)
            editions = render_editions(issue, settings, env) if languages == 2 else {"en": render_issue(issue, settings, env, "en")}
            for rendered in editions.values():
                sample_message(rendered, settings).raw
        return run

    print(f"Build of {ISSUE.relative_to(REPO)}, {args.rounds} rounds:")
    one, two = timed({"one language (en)": build(1), "two languages (en, ja)": build(2)}, args.rounds).values()
    print(f"ratio two languages / one: {two / one:.2f}x")

    editions = render_editions(load_issue(ISSUE), settings, env)
    single = MessageFactory(editions["en"], settings, BENCH_SECRET)
    chooser = MessageFactories(editions, settings, BENCH_SECRET)
    members = [(f"m{n}@example.org", f"Member {n}", {"city": "Kyoto"}, LANGUAGES[n % len(LANGUAGES)]) for n in range(args.members)]

    def personalise(factory: MessageFactory | MessageFactories) -> Callable[[], object]:
        def run() -> None:
            for email, name, fields, language in members:
                factory.personalise(email, name, fields, language=language).raw
        return run

    print(f"\nPersonalising {args.members:,} members (raw RFC 5322 bytes), {args.rounds} rounds:")
    single_t, chooser_t = timed({"one edition (MessageFactory)": personalise(single),
                                 "edition per member's language (MessageFactories)": personalise(chooser)}, args.rounds).values()
    print(f"per member: {single_t / args.members * 1e6:.1f} us vs {chooser_t / args.members * 1e6:.1f} us; "
          f"ratio {chooser_t / single_t:.2f}x")

    member = PreviewMember(settings.newsletter.sample_member_email, settings.newsletter.sample_member_name)

    def old_preview_rebuild() -> None:
        findings: list = []
        issue = load_issue(ISSUE, findings)
        for check in ISSUE_CHECKS:
            findings.extend(check(issue, settings))
        sample_message(render_issue(issue, settings, env, "en"), settings)  # the check's own render, for its size
        page = render_issue(load_issue(ISSUE), settings, env, "en")  # and the preview's
        MessageFactory(page, settings, BENCH_SECRET).personalise(member.email, member.name).html

    print(f"\nPreview rebuild after an edit, {args.rounds} rounds:")
    old, new = timed({"before: one language, rendered for check and for page": old_preview_rebuild,
                      "now: two languages, check reuses the render": lambda: build_preview(ISSUE, settings, env, member, "v")},
                     args.rounds).values()
    print(f"ratio now (two languages) / before (one): {new / old:.2f}x")


if __name__ == "__main__":
    main()
