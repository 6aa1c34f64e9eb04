"""The members' pages' words and limits: every shipped language has every string, a
template asking for a string no catalog has fails with its file and line, and the
per-client limit slides with time."""
from __future__ import annotations

import tomllib

import pytest

from digest.errors import TemplateError
from digest.members.catalog import Catalog
from digest.members.limits import RateLimiter
from digest.members.site import Site
from digest.members.http import Request

from .conftest import REPO

LOCALE = REPO / "locale"


def keys(language: str) -> set[str]:
    return set(tomllib.loads((LOCALE / language / "members.toml").read_text(encoding="utf-8")))


@pytest.mark.parametrize("language", ["ja"])
def test_every_shipped_language_has_every_string_of_the_default(language):
    assert keys(language) == keys("en")


def test_languages_are_matched_by_primary_subtag_and_accept_language():
    catalog = Catalog.load(LOCALE, "en")
    assert catalog.languages == ["en", "ja"]
    assert catalog.negotiate("ja-JP") == "ja"
    assert catalog.negotiate("", accept_language="fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.1") == "ja"
    assert catalog.negotiate("fr", accept_language="de, ja;q=0") == "en"


def test_a_page_asking_for_a_string_no_catalog_has_fails_with_its_file_and_line(tmp_path, settings, monkeypatch):
    from dataclasses import replace

    templates = tmp_path / "templates"
    (templates / "pages").mkdir(parents=True)
    (templates / "pages" / "message.html").write_text("<p>\n{{ t.no_such_string }}</p>\n", encoding="utf-8")
    tables = {**settings.tables, "paths": {**settings.tables["paths"], "templates": str(templates),
                                          "locale": str(LOCALE)}}
    site = Site(replace(settings, tables=tables), "secret")
    with pytest.raises(TemplateError) as info:
        site.message(Request({"REQUEST_METHOD": "GET"}), "en", "check_inbox_title", "text")
    assert "message.html:2" in str(info.value)


def test_the_per_client_limit_slides_with_time_and_counts_clients_apart():
    now = [1000.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [0, 0, 0, 60]
    assert limiter.hit("b") == 0
    now[0] += 30
    assert limiter.hit("a") == 30
    now[0] += 30.5
    assert limiter.hit("a") == 0
