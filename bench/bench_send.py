"""SMTP sending with per-message recording against a bare smtplib loop over the same
pre-built messages, side by side in one run, through a real MTA when one listens on
127.0.0.1:25 (Debian's postfix; see below) and a minimal sink in its own process
otherwise.

Three senders, rounds alternating, each over one connection:

- bare smtplib: ``sendmail()`` for each pre-built message, nothing recorded;
- digest, per-message recording: the same messages through the SMTP backend and
  ``deliver_batch``, with each batch's intent committed (fsynced) before it goes and each
  answer committed before the next message, as ``digest send`` does;
- digest send: the whole loop for reference (audience snapshot already taken,
  personalising each member as it goes, the ledger, the backend).

The first ratio is the cost of the durability (the target is within 10%). Loopback
timings on a shared machine vary run to run, so best and median wall times are shown.

Postfix for this benchmark (discarding what it accepts, listening on loopback only)::

    apt-get install postfix
    postconf -e 'inet_interfaces = loopback-only' 'mydestination =' 'default_transport = discard:bench' \\
        'relay_transport = discard:bench' 'mynetworks = 127.0.0.0/8' 'smtpd_relay_restrictions = permit_mynetworks, reject'
    postfix start

    .venv/bin/python bench/bench_send.py [--members 2000] [--rounds 5] [--sink]
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
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


async def _session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Just enough SMTP to accept mail, reading DATA in one ``readuntil``."""
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


def mta_listening() -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", 25, timeout=2) as probe:
            return probe.ehlo()[0] == 250
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sink", action="store_true", help="use the minimal sink even if an MTA listens on port 25")
    parser.add_argument("--serve-sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink:
        run_sink(args.serve_sink)
        return
    if not args.sink and mta_listening():
        print("server: the MTA on 127.0.0.1:25")
        with tempfile.TemporaryDirectory() as folder:
            compare(Path(folder), 25, args.members, args.rounds)
        return
    port = free_port()
    sink = subprocess.Popen([sys.executable, __file__, "--serve-sink", str(port)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    print(f"server: the minimal sink on 127.0.0.1:{port} ({'--sink' if args.sink else 'no MTA on port 25'})")
    try:
        with tempfile.TemporaryDirectory() as folder:
            compare(Path(folder), port, args.members, args.rounds)
    finally:
        sink.terminate()
        sink.wait()


def compare(folder: Path, port: int, count: int, rounds: int) -> None:
    from digest.config import load_settings
    from digest.content import load_issue
    from digest.delivery.audience import members_file_source, prepare_send
    from digest.delivery.backends import get_backend
    from digest.delivery.batches import SendOptions, deliver_batch
    from digest.delivery.send import send_issue
    from digest.members.file import chunks
    from digest.render import render_issue
    from digest.render.mime import MessageFactory
    from digest.store.ledger import Intent, SendLedger

    members = folder / "members.csv"
    members.write_text("email,name\n" + "".join(f"member{n}@example.org,Member {n}\n" for n in range(count)), encoding="utf-8")
    environ = {"DIGEST_DELIVERY_BACKEND": "smtp", "DIGEST_SMTP_HOST": "127.0.0.1", "DIGEST_SMTP_PORT": str(port),
               "DIGEST_SMTP_SECURITY": "none"}
    settings = load_settings(REPO / "config.toml", environ=environ)
    factory = MessageFactory(render_issue(load_issue(REPO / "issues" / "2015-10"), settings), settings, "bench-secret")
    messages = [factory.personalise(f"member{n}@example.org", f"Member {n}") for n in range(count)]
    for message in messages:
        message.raw
    options = SendOptions.from_settings(settings)
    run_numbers = itertools.count()

    def bare_prebuilt() -> None:
        with smtplib.SMTP("127.0.0.1", port) as connection:
            for message in messages:
                connection.sendmail(message.from_email, [message.recipient], message.raw)

    def recorded_prebuilt() -> None:
        with SendLedger(folder / f"ledger-{next(run_numbers)}.sqlite") as ledger, get_backend(settings) as backend:
            run = ledger.start_send("2015-10", "smtp")
            record = lambda outcomes: ledger.record_outcomes(run.id, outcomes, durable=False)
            with ledger.relaxed_sync():
                for batch in chunks(messages, backend.max_batch):
                    ledger.record_intent(run.id, [Intent(m.recipient, m.message_id) for m in batch])
                    assert deliver_batch(backend, batch, options, threading.Event(), record) is None
            assert ledger.counts(run.id) == {"sent": count}

    def digest_send() -> None:
        with SendLedger(folder / f"ledger-{next(run_numbers)}.sqlite") as ledger:
            plan = prepare_send(ledger, "2015-10", "smtp", members_file_source(members), explicit=True)
            report = send_issue(factory, ledger, plan.run, lambda: get_backend(settings), options)
        assert report.progress.sent == count, report

    senders = {"bare smtplib, pre-built messages": bare_prebuilt,
               "digest per-message recording, pre-built": recorded_prebuilt,
               "digest send (personalising, whole loop)": digest_send}
    times: dict[str, list[float]] = {name: [] for name in senders}
    for _ in range(rounds):
        for name, sender in senders.items():
            start = time.perf_counter()
            sender()
            times[name].append(time.perf_counter() - start)
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(f"{name:42s} wall best {best:6.2f} s, median {median:6.2f} s ({count / best:5.0f} msg/s best)")
    bare, recorded, whole = (times[name] for name in senders)
    recording = recording_alone(folder, messages, SendLedger, Intent)
    print(f"the ledger's part alone (each batch's intent fsynced, each answer committed): {recording * 1e6:.0f} us a "
          f"message = {recording / (min(bare) / count):.1%} of a bare send's time per message (best)")
    for label, pick in (("best", min), ("median", statistics.median)):
        print(f"{label:6s} per-message recording / bare smtplib: {pick(recorded) / pick(bare):.3f} "
              f"({pick(recorded) / pick(bare) - 1:+.1%}); whole digest send / bare: {pick(whole) / pick(bare):.3f}")


def recording_alone(folder: Path, messages: list, ledger_class, intent_class) -> float:
    """Seconds a message that the ledger's writes cost without any network: what the
    per-message recording adds to a send, free of the server's own timing noise."""
    from digest.members.file import chunks
    from digest.store.ledger import Outcome

    with ledger_class(folder / "ledger-alone.sqlite") as ledger:
        run = ledger.start_send("2015-10", "smtp")
        start = time.perf_counter()
        with ledger.relaxed_sync():
            for batch in chunks(messages, 50):
                ledger.record_intent(run.id, [intent_class(m.recipient, m.message_id) for m in batch])
                for m in batch:
                    ledger.record_outcomes(run.id, [Outcome(m.recipient, "sent", m.message_id)], durable=False)
        return (time.perf_counter() - start) / len(messages)


if __name__ == "__main__":
    os.environ.pop("DIGEST_CONFIG", None)
    main()
