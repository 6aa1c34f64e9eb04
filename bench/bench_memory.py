"""Peak memory (ru_maxrss) of `digest send --dry-run` for growing members files, each
in its own subprocess: a flat line means members are streamed, never held.

The ledger exists and holds suppressions, so the per-block suppression and ledger
lookups run as in a real send; the outbox backend is configured.

    .venv/bin/python bench/bench_memory.py [--sizes 1000,100000,1000000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digest.store.ledger import SendLedger

REPO = Path(__file__).resolve().parent.parent


def write_members(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email,name,language,tags,city\n")
        for start in range(0, count, 10_000):
            handle.write("".join(f"member{n:07d}@example.org,Member {n},en,members,City {n % 97}\n"
                                 for n in range(start, min(count, start + 10_000))))


def peak_of_dry_run(folder: Path, members: Path) -> tuple[float, float, str]:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
    environ.update({"DIGEST_LEDGER_PATH": str(folder / "ledger.sqlite"), "DIGEST_OUTBOX_PATH": str(folder / "outbox")})
    args = [sys.executable, "-m", "digest", "--config", str(REPO / "config.toml"), "send", str(REPO / "issues" / "2015-10"),
            "--dry-run", "--members", str(members)]
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=environ, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    output = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dry run failed for {members}")
    return usage.ru_maxrss / 1024, elapsed, output.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with SendLedger(folder / "ledger.sqlite") as ledger:
            for n in range(0, max(sizes), 1000):
                ledger.suppress(f"member{n:07d}@example.org", "unsubscribe")
        peaks = []
        for size in sizes:
            members = folder / f"members-{size}.csv"
            write_members(members, size)
            peak, elapsed, summary = peak_of_dry_run(folder, members)
            peaks.append(peak)
            print(f"{size:>10,} members: peak RSS {peak:6.1f} MB, {elapsed:6.1f} s  ({summary.split(': ', 1)[-1]})")
            members.unlink()
    print(f"ratio peak {sizes[-1]:,} / {sizes[0]:,} members: {peaks[-1] / peaks[0]:.2f}x (+{peaks[-1] - peaks[0]:.1f} MB)")


if __name__ == "__main__":
    main()
