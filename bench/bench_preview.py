"""Preview page times: served from cache, after an item edit, and after a template edit.

An item edit re-checks and re-renders the issue with the Jinja environment kept; a
template edit also builds a new environment (recompiling every template). The ratios
show what the per-issue cache and the reused environment save. Rounds alternate the
three cases over one server on loopback so machine noise hits them alike.

    .venv/bin/python bench/bench_preview.py [--rounds 15]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import requests

from digest.config import load_settings
from digest.preview import create_server

REPO = Path(__file__).resolve().parent.parent


def copy_project(target: Path) -> Path:
    shutil.copy(REPO / "config.toml", target / "config.toml")
    shutil.copytree(REPO / "templates", target / "templates")
    shutil.copytree(REPO / "locale", target / "locale")
    shutil.copytree(REPO / "issues" / "2015-10", target / "issues" / "2015-10")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_project(Path(tmp))
        server = create_server(load_settings(root / "config.toml", environ={}), "127.0.0.1", 0)
        thread = server.serve_in_thread()
        page = f"{server.url}issues/2015-10/"
        item = root / "issues" / "2015-10" / "03-fourth-iclei-cafe.md"
        template = root / "templates" / "email.txt"
        session = requests.Session()

        def fetch() -> None:
            response = session.get(page, timeout=60)
            assert response.status_code == 200 and 'id="render-error"' not in response.text

        def appending(path: Path) -> Callable[[], None]:
            def change() -> None:
                with path.open("a", encoding="utf-8") as handle:
                    handle.write("\n")
            return change

        cases: dict[str, Callable[[], None] | None] = {
            "cached (nothing changed)": None,
            "after an item edit (env reused)": appending(item),
            "after a template edit (new env)": appending(template),
        }
        fetch()  # warm imports and the first build
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, change in cases.items():
                if change is not None:
                    change()
                start = time.perf_counter()
                fetch()
                times[name].append(time.perf_counter() - start)
        server.shutdown()
        server.server_close()
        thread.join(5)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:36s} median {value * 1000:8.1f} ms over {args.rounds} rounds")
    cached, item_edit, template_edit = medians.values()
    print(f"ratio item-edit rebuild / cached page: {item_edit / cached:.1f}x")
    print(f"ratio template-edit rebuild / item-edit rebuild: {template_edit / item_edit:.2f}x")


if __name__ == "__main__":
    main()
