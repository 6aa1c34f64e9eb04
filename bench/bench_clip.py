"""How many seed-sized items fit under Gmail's clip limit, measured in one run.

Builds issues of N items made from the seed issue's own items (cycled, in order, each
given a link as curated items have), renders each once for the sample member, and
prints the HTML bytes against N, the bytes one item costs, and the largest N under
``[limits] clip_bytes``. Also prints the seed issue's own HTML bytes.

    .venv/bin/python bench/bench_clip.py
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from digest.config import load_settings  # noqa: E402
from digest.content import load_issue  # noqa: E402
from digest.render import render_issue  # noqa: E402
from digest.render.build import sample_message  # noqa: E402

SEED = REPO / "issues" / "2015-10"
ITEMS_PER_SECTION = 10


def make_issue(folder: Path, count: int) -> Path:
    """An issue of ``count`` items copied from the seed's, ten to a section."""
    if folder.exists():
        return folder
    seed_items = sorted(SEED.glob("*.md"))
    folder.mkdir(parents=True)
    sections = []
    for n in range(count):
        source = seed_items[n % len(seed_items)].read_text(encoding="utf-8")
        head, body = source.split("+++\n", 2)[1:]
        name = f"{n:03d}.md"
        link = f'link = "https://iclei-japan.example.org/news/{n:03d}"\n'
        (folder / name).write_text(f"+++\n{head}{link}+++\n{body}", encoding="utf-8")
        if n % ITEMS_PER_SECTION == 0:
            sections.append([])
        sections[-1].append(name)
    toml = (SEED / "issue.toml").read_text(encoding="utf-8").split("[[sections]]")[0]
    for index, names in enumerate(sections):
        listed = ", ".join(f'"{name}"' for name in names)
        toml += f'[[sections]]\ntitle = "Section {index + 1}"\nitems = [{listed}]\n\n'
    (folder / "issue.toml").write_text(toml, encoding="utf-8")
    return folder


def html_bytes(folder: Path, settings) -> int:
    message = sample_message(render_issue(load_issue(folder), settings), settings)
    return len(message.html.encode("utf-8"))


def main() -> None:
    settings = load_settings(REPO / "config.toml", environ={})
    clip = settings.clip_bytes
    work = Path(tempfile.mkdtemp(prefix="bench-clip-"))
    try:
        started = time.perf_counter()
        seed = html_bytes(SEED, settings)
        sizes = {n: html_bytes(make_issue(work / f"n{n}", n), settings) for n in (10, 20)}
        per_item = (sizes[20] - sizes[10]) / 10
        fits = int(10 + (clip - sizes[10]) // per_item)
        while html_bytes(make_issue(work / f"n{fits}", fits), settings) > clip:
            fits -= 1
        while html_bytes(make_issue(work / f"n{fits + 1}", fits + 1), settings) <= clip:
            fits += 1
        at_fit = html_bytes(work / f"n{fits}", settings)
        print(f"seed issue HTML: {seed:,} bytes ({seed / clip:.0%} of the {clip:,}-byte clip)")
        print(f"10 items: {sizes[10]:,} bytes; 20 items: {sizes[20]:,} bytes; one item: {per_item:,.0f} bytes")
        print(f"largest issue under the clip: {fits} seed-sized items ({at_fit:,} bytes, {at_fit / clip:.1%})")
        print(f"(measured in {time.perf_counter() - started:.1f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
