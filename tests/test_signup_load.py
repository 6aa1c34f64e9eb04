"""Sign-ups under load, over real HTTP from many loopback addresses: none lost, one
confirmation per address per window, and a burst from one address gets 429."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .members_web import Browser, heading, hidden_fields, start


@pytest.fixture
def app(tmp_path, monkeypatch):
    running, server = start(tmp_path, monkeypatch)
    yield running
    server.shutdown()
    server.server_close()


def loopback(n: int) -> str:
    """The n-th client address in 127.0.0.0/8 (all of it is this machine)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def post_together(posts: list) -> list:
    """Run every (browser, form page, fields) POST at the same moment; the answers in order."""
    barrier = threading.Barrier(len(posts))

    def post(job):
        browser, page, fields = job
        data = {**hidden_fields(page.text), **fields}
        barrier.wait(timeout=60)
        return browser.post("/subscribe", data)

    with ThreadPoolExecutor(max_workers=len(posts)) as pool:
        return list(pool.map(post, posts))


def test_200_concurrent_sign_ups_from_200_addresses_are_all_kept_and_each_mailed_once(app):
    addresses = [f"reader{n:03d}@example.org" for n in range(200)]
    posts = []
    for n, address in enumerate(addresses):
        browser = Browser(app, source=loopback(n))
        posts.append((browser, browser.get("/subscribe"), {"email": address, "name": f"Reader {n}", "language": "en",
                                                            "website": ""}))
    answers = post_together(posts)
    assert [a.status_code for a in answers] == [200] * 200
    with app.ledger() as ledger:
        pending = {m.email for m in ledger.members("pending")}
        per_address = dict(ledger.db.execute("SELECT email, COUNT(*) FROM confirmations GROUP BY email"))
    assert pending == set(addresses)
    assert per_address == {address: 1 for address in addresses}
    assert sorted(p.name for p in (app.outbox / "_confirmations").iterdir()) == [f"{a}.eml" for a in addresses]


def test_50_sign_ups_for_one_address_at_once_get_one_answer_and_one_confirmation(app):
    posts = []
    for n in range(50):
        browser = Browser(app, source=loopback(n))
        posts.append((browser, browser.get("/subscribe"), {"email": "Same@Example.org", "name": f"Try {n}", "language": "en",
                                                            "website": ""}))
    answers = post_together(posts)
    assert [a.status_code for a in answers] == [200] * 50
    assert {heading(a.text) for a in answers} == {"Check your inbox"}
    assert app.confirmations("same@example.org") == 1
    assert app.member("same@example.org").status == "pending"
    later = Browser(app, source=loopback(60)).subscribe("same@example.org")
    assert later.status_code == 200 and app.confirmations("same@example.org") == 1, "still within the hour"


def test_a_burst_from_one_address_gets_429_with_retry_after_past_ten_a_minute(app):
    browser = Browser(app, source="127.0.0.77")
    statuses, retry_after = [], []
    for n in range(13):
        response = browser.subscribe(f"burst{n}@example.org")
        statuses.append(response.status_code)
        retry_after.append(response.headers.get("Retry-After"))
    assert statuses == [200] * 10 + [429] * 3
    assert all(value is not None and 1 <= int(value) <= 60 for value in retry_after[10:])
    assert "Too many requests" in response.text
    with app.ledger() as ledger:
        assert ledger.status_counts()["pending"] == 10
    assert Browser(app, source="127.0.0.78").subscribe("other@example.org").status_code == 200, "other clients unaffected"
