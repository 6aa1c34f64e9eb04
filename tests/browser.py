"""Debian's headless chromium driven through playwright (its own browser download is
not used), and the issue the browser tests render: the seed's items plus one that
uses every body element and a draft mark."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium is not installed (.ci/run installs Debian's chromium with apt-get)")

RICH_ITEM = '''+++
title = "Cities share what works: Toyama's compact city plan"
link = "https://example.org/toyama"
draft = true
+++
Toyama links its neighbourhoods by tram. Read [the city's plan](https://example.org/plan) and the
[summary in Japanese](https://example.org/ja).

- Trams every 10 minutes
- Housing near stops

> "Cities learn fastest from each other."

富山市は、公共交通を軸とした拠点集中型のコンパクトなまちづくりを進めています。
'''


def rich_issue(folder: Path, seed: Path) -> Path:
    """A copy of the seed issue with one more item, in its last section."""
    shutil.copytree(seed, folder)
    (folder / "10-toyama.md").write_text(RICH_ITEM, encoding="utf-8")
    toml = folder / "issue.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('"09-jcm-workshop-jakarta.md",', '"09-jcm-workshop-jakarta.md",\n    "10-toyama.md",'), encoding="utf-8")
    return folder


@contextmanager
def chromium_browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            browser.close()
