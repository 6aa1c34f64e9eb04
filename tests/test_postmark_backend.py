"""Postmark answers 200 for a batch even when messages fail: each ErrorCode is read."""
from __future__ import annotations

import pytest

from digest.delivery.backends.base import Status
from digest.errors import DeliveryError

from .fake_provider import Reply
from .provider_formats import accept_postmark
from .test_http_backends import members

INACTIVE = "You tried to send to a recipient that has been marked as inactive. Found inactive addresses: member1@example.org."


def test_message_fields_and_headers_follow_postmark_and_carry_our_message_id(provider_backend, seed_factory):
    backend, server = provider_backend("postmark")
    server.queued.append(accept_postmark_for(2))
    batch = members(seed_factory, 2)
    with backend:
        results = backend.send_batch(batch)
    sent = server.requests[0].json()
    assert sent[0]["From"] == batch[0].from_header and sent[0]["To"] == batch[0].to_header
    assert sent[0]["HtmlBody"] == batch[0].html and sent[1]["TextBody"] == batch[1].text
    assert sent[0]["MessageStream"] == "broadcast" and sent[0]["ReplyTo"] == batch[0].reply_to
    headers = {h["Name"]: h["Value"] for h in sent[1]["Headers"]}
    assert headers["Message-ID"] == batch[1].message_id
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert seed_factory.unsubscribe_url(batch[1].recipient) in headers["List-Unsubscribe"]
    assert [r.message_id for r in results] == ["id-0", "id-1"]


def test_partial_failure_marks_inactive_and_invalid_recipients_permanent_and_the_rest_sent(provider_backend, seed_factory):
    def partly(request):
        entries = accept_postmark(request).body
        entries[1] = {"ErrorCode": 406, "Message": INACTIVE}
        entries[2] = {"ErrorCode": 300, "Message": "Invalid 'To' address: 'member2@example.org'."}
        return Reply(200, entries)

    backend, _ = provider_backend("postmark", answer=partly)
    with backend:
        results = backend.send_batch(members(seed_factory, 4))
    assert [r.status for r in results] == [Status.SENT, Status.PERMANENT, Status.PERMANENT, Status.SENT]
    assert "ErrorCode 406" in results[1].reason and "inactive" in results[1].reason
    assert results[0].message_id and not results[1].message_id


def test_a_fault_of_the_account_on_every_message_stops_the_send(provider_backend, seed_factory):
    def unsigned(request):
        return Reply(200, [{"ErrorCode": 400, "Message": "Sender signature not found."} for _ in request.json()])

    backend, _ = provider_backend("postmark", answer=unsigned)
    with backend, pytest.raises(DeliveryError, match="ErrorCode 400.*Sender signature not found"):
        backend.send_batch(members(seed_factory, 3))


def test_a_fault_beside_accepted_messages_is_retried_not_raised(provider_backend, seed_factory):
    def mixed(request):
        entries = accept_postmark(request).body
        entries[0] = {"ErrorCode": 405, "Message": "Not allowed to send: out of credits."}
        return Reply(200, entries)

    backend, _ = provider_backend("postmark", answer=mixed)
    with backend:
        results = backend.send_batch(members(seed_factory, 2))
    assert [r.status for r in results] == [Status.TEMPORARY, Status.SENT]


def test_five_hundred_messages_go_in_one_call(provider_backend, seed_factory):
    backend, server = provider_backend("postmark")
    with backend:
        results = backend.send_batch(members(seed_factory, 500))
    assert len(server.requests) == 1 and len(server.requests[0].json()) == 500
    assert all(r.status is Status.SENT for r in results)


def test_a_batch_over_the_payload_limit_is_split_and_a_later_failure_keeps_earlier_results(provider_backend, seed_factory):
    backend, server = provider_backend("postmark")
    backend.max_payload_bytes = 2 * (len(seed_factory.personalise("a@example.org").html) + 20_000)
    server.queued += [accept_postmark_for(2), Reply(503, "maintenance")]
    batch = members(seed_factory, 4)
    with backend:
        results = backend.send_batch(batch)
    assert [len(r.json()) for r in server.requests] == [2, 2]
    assert [r.status for r in results] == [Status.SENT, Status.SENT, Status.TEMPORARY, Status.TEMPORARY]
    assert "HTTP 503" in results[2].reason


def accept_postmark_for(count):
    return Reply(200, [{"To": f"m{n}@example.org", "MessageID": f"id-{n}", "ErrorCode": 0, "Message": "OK"} for n in range(count)])
