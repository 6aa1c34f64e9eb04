"""One-click unsubscribes per second through the real app over loopback, with the
ledger fsyncing every commit (what the app does) against SQLite WAL's default NORMAL,
one client and 8 concurrent clients, measured side by side in one run.

The ratio shows what the durability promise ("recorded before the 200") costs.

    .venv/bin/python bench/bench_unsubscribe.py [--requests 300]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests

from digest.config import load_settings
from digest.store.ledger import SendLedger
from digest.members.tokens import unsubscribe_url
from digest.members.web import make_unsubscribe_server

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"


def run(requests_total: int, clients: int, fsync: bool) -> float:
    """Unsubscribes per second for ``requests_total`` distinct addresses."""
    original = SendLedger.SYNCHRONOUS
    if not fsync:
        SendLedger.SYNCHRONOUS = "NORMAL"  # the bench's baseline only
    try:
        return _timed(requests_total, clients)
    finally:
        SendLedger.SYNCHRONOUS = original


def _timed(requests_total: int, clients: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(REPO / "config.toml", environ={"DIGEST_LEDGER_PATH": str(Path(folder) / "l.sqlite")})
        server = make_unsubscribe_server(settings, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_port}"
        urls = []
        for i in range(requests_total):
            parts = urlsplit(unsubscribe_url(settings, SECRET, f"member{i}@example.org"))
            urls.append(f"{origin}{parts.path}?{parts.query}")
        local = threading.local()

        def post(url: str) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            assert local.session.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=30).status_code == 200

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(post, urls))
        elapsed = time.perf_counter() - start
        server.shutdown()
        server.server_close()
        with SendLedger(settings.path("ledger")) as ledger:
            assert sum(1 for _ in ledger.suppressions()) == requests_total
    return requests_total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ["DIGEST_UNSUBSCRIBE_SECRET"] = SECRET
    run(20, 1, True)  # warm imports
    for clients in (1, 8):
        full = run(args.requests, clients, fsync=True)
        normal = run(args.requests, clients, fsync=False)
        print(f"{clients} client(s): fsync every commit {full:7.0f}/s, WAL NORMAL {normal:7.0f}/s, "
              f"ratio {full / normal:.2f}x")


if __name__ == "__main__":
    main()
