"""``check --links`` with the configured worker pool against one worker, side by side.

A loopback server answers every request after a fixed delay (as a distant site
would); an issue of N items, each with its own link, is checked with ``workers = 1``
and ``workers = 8``, rounds alternating so machine noise hits both alike.

    .venv/bin/python bench/bench_linkcheck.py [--items 40] [--delay 0.05] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest.config import load_settings
from digest.content import load_issue
from digest.sources.linkcheck import check_links

REPO = Path(__file__).resolve().parent.parent


def serve(delay: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def write_issue(folder: Path, base: str, items: int) -> None:
    names = [f"item-{n:03d}.md" for n in range(items)]
    listed = ", ".join(f'"{name}"' for name in names)
    (folder / "issue.toml").write_text(f'title = "Bench"\ndate = 2026-01-31\nsubject = "Bench"\n\n[[sections]]\ntitle = "News"\nitems = [{listed}]\n', encoding="utf-8")
    for n, name in enumerate(names):
        (folder / name).write_text(f'+++\ntitle = "Item {n}"\nlink = "{base}/page/{n}"\n+++\nBody.\n', encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = serve(args.delay)
    with tempfile.TemporaryDirectory() as tmp:
        write_issue(Path(tmp), f"http://127.0.0.1:{server.server_address[1]}", args.items)
        issue = load_issue(tmp)
        runs = {workers: load_settings(REPO / "config.toml", environ={"DIGEST_LINKCHECK_WORKERS": str(workers)}) for workers in (1, 8)}
        times: dict[int, list[float]] = {workers: [] for workers in runs}
        for _ in range(args.rounds):
            for workers, settings in runs.items():
                start = time.perf_counter()
                assert check_links(issue, settings) == []
                times[workers].append(time.perf_counter() - start)
    server.shutdown()
    medians = {workers: statistics.median(values) for workers, values in times.items()}
    for workers, value in medians.items():
        print(f"{args.items} links, {args.delay * 1000:.0f} ms each, workers={workers}: median {value:6.2f} s over {args.rounds} rounds")
    print(f"ratio workers=1 / workers=8: {medians[1] / medians[8]:.1f}x")


if __name__ == "__main__":
    main()
