"""The benchmarks under bench/ still import: they reach into the library, and a rename
there would otherwise only show when someone next measures."""
from __future__ import annotations

import importlib.util

import pytest

from .conftest import REPO

BENCHMARKS = sorted((REPO / "bench").glob("bench_*.py"))


def test_there_are_benchmarks():
    assert len(BENCHMARKS) >= 10


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_imports(path):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{path.name} has no main()"
