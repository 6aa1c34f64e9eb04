"""The members' pages' words and limits: every message the pages and the confirmation
email use is in each shipped catalog (tests/test_languages.py extracts them from the
templates), a code no message has fails with the file named, languages are matched by
tag and Accept-Language, and the per-client limit slides with time."""
from __future__ import annotations

import pytest

from digest.errors import TemplateError
from digest.members.http import Request
from digest.members.limits import RateLimiter
from digest.members.site import Site

from .conftest import REPO, with_table
from .test_languages import template_messages


def test_the_pages_and_the_confirmation_email_are_in_the_catalogs_extraction():
    wanted = template_messages()
    assert {"Check your inbox", "Confirm my subscription", "Your subscription to %(newsletter)s",
            "Confirm your subscription to %(newsletter)s", "One click and you are in."} <= wanted


@pytest.fixture
def private_ledger(settings, tmp_path):
    """The repository's settings with a ledger of the test's own: the site opens it."""
    return with_table(settings, "ledger", path=str(tmp_path / "ledger.sqlite"))


def test_languages_are_matched_by_tag_and_accept_language(private_ledger):
    site = Site(private_ledger, "secret")
    assert site.languages == ("en", "ja")

    def request(accept: str) -> Request:
        return Request({"REQUEST_METHOD": "GET", "HTTP_ACCEPT_LANGUAGE": accept})

    assert site.language_for(request(""), "ja-JP") == "ja"
    assert site.language_for(request("fr-CH, fr;q=0.9, ja;q=0.8, en;q=0.1")) == "ja"
    assert site.language_for(request("de, ja;q=0"), "fr") == "en"


def test_a_page_naming_a_message_that_does_not_exist_fails_with_the_file_named(tmp_path, private_ledger):
    templates = tmp_path / "templates"
    (templates / "pages").mkdir(parents=True)
    for name in ("base.html", "messages.html", "message.html"):
        (templates / "pages" / name).write_text((REPO / "templates" / "pages" / name).read_text(encoding="utf-8"),
                                                encoding="utf-8")
    site = Site(with_table(private_ledger, "paths", templates=str(templates)), "secret")
    with pytest.raises(TemplateError, match="pages/messages.html has no message 'no_such_message'"):
        site.message(Request({"REQUEST_METHOD": "GET"}), "en", "check_inbox_title", "no_such_message")


def test_the_per_client_limit_slides_with_time_and_counts_clients_apart():
    now = [1000.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(4)] == [0, 0, 0, 60]
    assert limiter.hit("b") == 0
    now[0] += 30
    assert limiter.hit("a") == 30
    now[0] += 30.5
    assert limiter.hit("a") == 0
