"""Taking a send's audience snapshot (read the members CSV, de-duplicate, check
suppressions, write every member into the ledger in one transaction) for growing
members files, each in its own subprocess: time, members per second and peak memory
(ru_maxrss). A flat memory line means members are streamed into the ledger, never held.

    .venv/bin/python bench/bench_snapshot.py [--sizes 1000,100000,1000000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_members(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,language,tags,city\n")
        for start in range(0, count, 10_000):
            handle.write("".join(f"member{n:07d}@example.org,Member {n},{'ja' if n % 3 else 'en'},members,City {n % 97}\n"
                                 for n in range(start, min(count, start + 10_000))))


def snapshot(ledger_path: str, members_path: str) -> None:
    """Runs in the child: one snapshot, as `digest send` takes it."""
    sys.path.insert(0, str(REPO))
    from digest.delivery.audience import members_file_source, prepare_send
    from digest.store.ledger import SendLedger

    start = time.perf_counter()
    with SendLedger(ledger_path) as ledger:
        plan = prepare_send(ledger, "bench", "outbox", members_file_source(members_path), explicit=True)
    print(json.dumps({"seconds": time.perf_counter() - start, "members": plan.audience.members,
                      "skipped": plan.audience.skipped}))


def measure(folder: Path, members: Path) -> tuple[dict, float]:
    from digest.store.ledger import SendLedger

    ledger = folder / f"ledger-{members.stem}.sqlite"
    with SendLedger(ledger) as prepared:  # suppressions exist, so the per-block lookups run as in a real send
        for n in range(0, 1_000_000, 1000):
            prepared.suppress(f"member{n:07d}@example.org", "unsubscribe")
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(ledger), str(members)], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"snapshot of {members} failed")
    assert proc.stdout is not None
    return json.loads(proc.stdout.read()), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        snapshot(*args.child)
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        peaks, times = [], []
        for size in sizes:
            members = folder / f"members-{size}.csv"
            write_members(members, size)
            result, peak = measure(folder, members)
            peaks.append(peak)
            times.append(result["seconds"])
            print(f"{size:>10,} rows: snapshot {result['seconds']:7.2f} s ({size / result['seconds']:9,.0f} rows/s), "
                  f"peak RSS {peak:6.1f} MB; {result['members']:,} members, {result['skipped']:,} skipped")
            members.unlink()
    print(f"peak memory {sizes[-1]:,} / {sizes[0]:,} rows: {peaks[-1] / peaks[0]:.2f}x (+{peaks[-1] - peaks[0]:.1f} MB); "
          f"time per row {sizes[-1]:,} / {sizes[0]:,}: {(times[-1] / sizes[-1]) / (times[0] / sizes[0]):.2f}x")


if __name__ == "__main__":
    main()
