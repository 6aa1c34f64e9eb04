"""Per-message DKIM cost: signing each member's message (rsa-2048 and ed25519, with the
signer the SMTP backend and the outbox use) against building the unsigned personalised
message, measured side by side in one run.

All three start from the same rendered seed issue and the same members; the signed
rounds sign bytes already built, so their time is the signing alone. Keys are made
for the run and never written anywhere. Rounds alternate between the three.

    .venv/bin/python bench/bench_dkim.py [--members 500] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from digest.config import load_settings
from digest.content import load_issue
from digest.delivery.dkim import DkimKey, DkimSigner
from digest.render import render_issue
from digest.render.mime import MessageFactory

REPO = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-for-timing-only"  # any string: tokens are sealed with it, never verified here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(REPO / "config.toml", environ={})
    rendered = render_issue(load_issue(REPO / "issues" / "2015-10"), settings)
    members = [(f"member{n}@example.org", f"Member {n}", {"city": f"City {n}"}) for n in range(args.members)]
    domain = settings.newsletter.from_email.rpartition("@")[2]
    signers = {
        "rsa-2048": DkimSigner(DkimKey("rsa-sha256", rsa.generate_private_key(public_exponent=65537, key_size=2048), "bench"),
                               "bench", domain),
        "ed25519": DkimSigner(DkimKey("ed25519-sha256", ed25519.Ed25519PrivateKey.generate(), "bench"), "bench", domain),
    }
    factory = MessageFactory(rendered, settings, BENCH_SECRET)
    messages = [factory.personalise(email, name, fields).raw for email, name, fields in members]

    def personalise() -> None:
        fresh = MessageFactory(rendered, settings, BENCH_SECRET)
        for email, name, fields in members:
            fresh.personalise(email, name, fields).raw

    def signing(signer):
        return lambda: [signer(raw) for raw in messages]

    runs = {"personalise (unsigned)": personalise, **{f"DKIM sign {name}": signing(s) for name, s in signers.items()}}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    each = {name: statistics.median(values) / args.members for name, values in times.items()}
    size = sum(map(len, messages)) / len(messages)
    print(f"{args.members:,} members, seed issue, {size / 1000:.0f} KB a message, median of {args.rounds} rounds")
    for name, seconds in each.items():
        print(f"{name:26s} {seconds * 1e3:8.3f} ms a message  ({1 / seconds:8,.0f} a second on one core)")
    base = each["personalise (unsigned)"]
    for name in signers:
        cost = each[f"DKIM sign {name}"]
        print(f"ratio DKIM {name} / personalise: {cost / base:6.1f}x  (signed message costs {(cost + base) / base:.1f}x unsigned)")


if __name__ == "__main__":
    main()
