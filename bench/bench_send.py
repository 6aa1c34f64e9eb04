"""Sending N members to a local SMTP sink through the digest send machinery (CSV read,
personalisation, send loop, ledger commits, SMTP backend with retries) against a bare
smtplib loop on one connection, measured side by side.

Two bare loops are timed: over pre-built messages (a pool of 200 built before the clock
starts, cycled with a new recipient each, since 10,000 would hold 600 MB), and one that
personalises each message as it goes. digest / bare-personalising is what the ledger,
retries and the loop cost; digest / bare-pre-built adds personalisation. The sink is
a minimal asyncio SMTP server in its own process, so it neither shares the sender's
GIL nor hides the sender's costs behind its own. Rounds alternate; loopback timings on a
shared machine vary by 10-15% run to run, so the best and the median wall times are shown,
and the sender's CPU time, which the sink's scheduling does not disturb.

    .venv/bin/python bench/bench_send.py [--members 10000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough SMTP to accept mail: reads DATA in one ``readuntil``, so the sink
    is not what limits the rate (aiosmtpd reads line by line: ~130 msg/s at 60 KB)."""
    writer.write(b"220 sink ready\r\n")
    while line := await reader.readline():
        verb = line[:4].upper()
        if verb == b"EHLO":
            writer.write(b"250-sink\r\n250 8BITMIME\r\n")
        elif verb == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await writer.drain()
            await reader.readuntil(b"\r\n.\r\n")
            writer.write(b"250 OK queued\r\n")
        elif verb == b"QUIT":
            writer.write(b"221 bye\r\n")
            break
        else:
            writer.write(b"250 OK\r\n")
        await writer.drain()
    writer.close()


def run_sink(port: int) -> None:
    async def serve() -> None:
        server = await asyncio.start_server(_session, "127.0.0.1", port, limit=1 << 24)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return
    port = free_port()
    sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    try:
        with tempfile.TemporaryDirectory() as folder:
            compare(Path(folder), port, args.members, args.rounds)
    finally:
        sink.terminate()
        sink.wait()


def compare(folder: Path, port: int, count: int, rounds: int) -> None:
    from digest.delivery.backends import get_backend
    from digest.config import load_settings
    from digest.content import load_issue
    from digest.store.ledger import SendLedger
    from digest.render import render_issue
    from digest.render.mime import MessageFactory
    from digest.delivery.batches import SendOptions
    from digest.delivery.send import send_issue
    from digest.members.tokens import DEVELOPMENT_SECRET

    members = folder / "members.csv"
    members.write_text("email,name\n" + "".join(f"member{n}@example.org,Member {n}\n" for n in range(count)), encoding="utf-8")
    environ = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
               "DIGEST_SMTP_SECURITY": "none"}
    settings = load_settings(REPO / "config.toml", environ=environ)
    rendered = render_issue(load_issue(REPO / "issues" / "2015-10"), settings)
    factory = MessageFactory(rendered, settings, DEVELOPMENT_SECRET)
    pool = [factory.personalise(f"member{n}@example.org", f"Member {n}") for n in range(200)]
    for message in pool:
        message.raw
    options = SendOptions.from_settings(settings)
    run = itertools.count()

    def digest_send() -> None:
        with SendLedger(folder / f"ledger-{next(run)}.sqlite") as ledger:
            report = send_issue(factory, members, ledger, lambda: get_backend(settings), options, to_send=count)
        assert report.progress.sent == count, report

    def bare_prebuilt() -> None:
        with smtplib.SMTP("127.0.0.1", port) as connection:
            for n in range(count):
                message = pool[n % len(pool)]
                connection.sendmail(message.from_email, [f"member{n}@example.org"], message.raw)

    def bare_personalising() -> None:
        with smtplib.SMTP("127.0.0.1", port) as connection:
            for n in range(count):
                message = factory.personalise(f"member{n}@example.org", f"Member {n}")
                connection.sendmail(message.from_email, [message.recipient], message.raw)

    names = ("digest send (loop + ledger + SMTP backend)", "bare smtplib, pre-built messages", "bare smtplib, personalising")
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name, fn in zip(names, (digest_send, bare_prebuilt, bare_personalising)):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(f"{name:44s} wall best {best:6.2f} s, median {median:6.2f} s; sender CPU median {statistics.median(cpu[name]):6.2f} s"
              f" ({count / best:4.0f} msg/s best)")
    for label, measured, pick in (("wall best", times, min), ("wall median", times, statistics.median),
                                  ("CPU median", cpu, statistics.median)):
        ours, prebuilt, personalising = (pick(values) for values in measured.values())
        print(f"{label:11s} digest / bare personalising {ours / personalising:.3f} ({ours / personalising - 1:+.1%}: ledger, retries, loop)"
              f"; digest / bare pre-built {ours / prebuilt:.3f} ({ours / prebuilt - 1:+.1%})")

if __name__ == "__main__":
    os.environ.pop("DIGEST_CONFIG", None)
    main()
