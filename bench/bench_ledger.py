"""The ledger on SQLite and on PostgreSQL, measured side by side in one run:

1. the audience snapshot of a shared send (``--snapshot`` members, default 1,000,000)
   written into each ledger and cut into batches, in its own process: wall time and peak
   memory, against reading the same members file (checked and de-duplicated) only;
2. throughput of 1, 2 and 4 workers (``digest send --workers N``) to a loopback SMTP sink
   on each engine, from the first worker joining to the last leaving (database clock);
3. the per-message cost of the shared-send loop and its ledger (claims, intents,
   outcomes, heartbeats) against a bare smtplib loop personalising the same messages.

The sink is bench_send.py's minimal asyncio server in its own process. PostgreSQL is
DIGEST_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test); each
measurement gets its own schema, dropped afterwards.

    .venv/bin/python bench/bench_ledger.py [--snapshot 1000000] [--send 2000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_memory import write_members  # noqa: E402
from bench_send import free_port  # noqa: E402

POSTGRES = os.environ.get("DIGEST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Schema:
    """A throwaway PostgreSQL schema; its URL sets the search path."""

    def __enter__(self) -> str:
        import psycopg

        self.name = f"digest_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {self.name}")
        return f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options={quote(f'-csearch_path={self.name}')}"

    def __exit__(self, *exc: object) -> None:
        import psycopg

        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {self.name} CASCADE")


def snapshot_child(target: str, members: str) -> None:
    """In a fresh process: write the snapshot (or only read the file when target is -)."""
    from digest.delivery.audience import members_file_source, prepare_send
    from digest.delivery.batches import SendOptions
    from digest.delivery.workers import prepare_shared_send
    from digest.members.file import Member, iter_members, without_duplicates
    from digest.store.ledger import SendLedger

    start = time.perf_counter()
    if target == "-":
        count = sum(1 for row in without_duplicates(iter_members(members)) if isinstance(row, Member))
    else:
        with SendLedger(target) as ledger:
            run = prepare_send(ledger, "bench", "smtp", members_file_source(members), explicit=False).run
            prepare_shared_send(ledger, run, SendOptions(), 100)
            count = ledger.audience(run.id).members
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count} {time.perf_counter() - start:.3f} {peak:.1f}")


def measure_snapshot(target: str, members: Path) -> tuple[int, float, float]:
    done = subprocess.run([sys.executable, __file__, "--snapshot-child", target, str(members)],
                          capture_output=True, text=True, check=True)
    count, seconds, peak = done.stdout.split()
    return int(count), float(seconds), float(peak)


def snapshots(folder: Path, size: int) -> None:
    members = folder / "members.csv"
    write_members(members, size)
    _, bare, bare_peak = measure_snapshot("-", members)
    print(f"Snapshot of {size:,} members (peak memory is the whole process):")
    print(f"  read the file only        {bare:7.2f} s  {bare_peak:7.1f} MB")
    with Schema() as url:
        for name, target in (("SQLite", str(folder / "snapshot.sqlite")), ("PostgreSQL", url)):
            count, seconds, peak = measure_snapshot(target, members)
            assert count == size, (name, count)
            print(f"  into {name:20s} {seconds:7.2f} s  {peak:7.1f} MB  ({seconds / bare:.2f}x the read, "
                  f"{size / seconds:,.0f} members/s)")


def throughput(folder: Path, port: int, count: int) -> None:
    from digest.store.ledger import SendLedger

    members = folder / "send.csv"
    write_members(members, count)
    print(f"Throughput of {count:,} messages to the loopback sink, first worker in to last out:")
    for engine in ("SQLite", "PostgreSQL"):
        rates = []
        for workers in (1, 2, 4):
            with Schema() as url:
                target = url if engine == "PostgreSQL" else str(folder / f"send-{workers}.sqlite")
                env = {name: value for name, value in os.environ.items() if not name.startswith("DIGEST_")}
                env.update({"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
                            "DIGEST_SMTP_SECURITY": "none", "DIGEST_UNSUBSCRIBE_SECRET": "bench",
                            "XDG_STATE_HOME": str(folder / f"state-{engine}-{workers}"),  # a new ledger each run
                            "DIGEST_LEDGER_URL" if engine == "PostgreSQL" else "DIGEST_LEDGER_PATH": target})
                subprocess.run([sys.executable, "-m", "digest", "--config", str(REPO / "config.toml"), "send",
                                str(REPO / "issues" / "2015-10"), "--members", str(members), "--yes", "--workers", str(workers),
                                "--skip-doctor"],
                               env=env, check=True, capture_output=True)
                with SendLedger(target) as ledger:
                    run = ledger.send_run("2015-10")
                    span = ledger.db.execute("SELECT MAX(heartbeat_at) - MIN(started_at) FROM workers "
                                             "WHERE send_id = ? AND sent > 0", (run.id,)).fetchone()[0]
                    assert ledger.counts(run.id) == {"sent": count}
            rates.append(count / span)
            print(f"  {engine:10s} {workers} worker(s): {count / span:7.0f} msg/s ({rates[-1] / rates[0]:.2f}x one worker)")


def overhead(folder: Path, port: int, count: int, rounds: int) -> None:
    from digest.config import load_settings
    from digest.content import load_issue
    from digest.delivery.backends import get_backend
    from digest.delivery.audience import members_file_source, prepare_send
    from digest.delivery.batches import SendOptions
    from digest.delivery.workers import prepare_shared_send, work_on_send
    from digest.render.issue import render_editions
    from digest.render.mime import MessageFactories
    from digest.store.ledger import SendLedger

    members = folder / "overhead.csv"
    write_members(members, count)
    settings = load_settings(REPO / "config.toml", environ={
        "DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
        "DIGEST_SMTP_SECURITY": "none"})
    factory = MessageFactories(render_editions(load_issue(REPO / "issues" / "2015-10"), settings), settings, "bench")
    options = SendOptions.from_settings(settings)

    def bare(_target: str) -> None:
        with smtplib.SMTP("127.0.0.1", port) as connection:
            for n in range(count):
                message = factory.personalise(f"member{n:07d}@example.org", f"Member {n}", {"city": f"City {n % 97}"})
                connection.sendmail(message.from_email, [message.recipient], message.raw)

    def shared(target: str) -> None:
        with SendLedger(target) as ledger:
            run = prepare_send(ledger, "2015-10", "smtp", members_file_source(members), explicit=False).run
            prepare_shared_send(ledger, run, options, 50)
            ledger.db.execute("DELETE FROM deliveries WHERE send_id = ?", (run.id,))
            ledger.db.execute("UPDATE batches SET state = 'pending', worker = '' WHERE send_id = ?", (run.id,))
            start = time.perf_counter()
            work_on_send(factory, ledger, lambda: get_backend(settings), options, run.id)
            times[target].append(time.perf_counter() - start)

    print(f"Per-message cost of the shared-send loop and ledger, {count:,} messages, one worker, best of {rounds} "
          "alternating rounds:")
    with Schema() as url:
        sqlite = str(folder / "overhead.sqlite")
        times: dict[str, list[float]] = {"bare": [], sqlite: [], url: []}
        for _ in range(rounds):
            start = time.perf_counter()
            bare("bare")
            times["bare"].append(time.perf_counter() - start)
            shared(sqlite)
            shared(url)
        base = min(times["bare"])
        print(f"  bare smtplib loop, personalising   {base:6.2f} s  {base / count * 1e6:7.0f} us/message")
        for name, target in (("SQLite", sqlite), ("PostgreSQL", url)):
            best = min(times[target])
            print(f"  shared send on {name:18s} {best:6.2f} s  {best / count * 1e6:7.0f} us/message "
                  f"({best / base:.2f}x, {(best - base) / count * 1e6:+.0f} us/message for the ledger and loop)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshot", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--snapshot-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.snapshot_child:
        snapshot_child(*args.snapshot_child)
        return
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(REPO / "bench" / "bench_send.py"), "--serve-sink", str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            snapshots(folder, args.snapshot)
            throughput(folder, port, args.send)
            overhead(folder, port, args.send, args.rounds)
    finally:
        sink.terminate()
        sink.wait()


if __name__ == "__main__":
    main()
