"""SendGrid: one personalization per member whose substitutions rebuild that member's
message exactly; a 400 naming a personalization refuses only that member."""
from __future__ import annotations

import pytest

from digest.delivery.backends.base import Status
from digest.errors import DeliveryError

from .fake_provider import Reply
from .provider_formats import sendgrid_deliveries
from .test_http_backends import members


def test_each_personalization_rebuilds_exactly_that_members_message(provider_backend, seed_factory):
    batch = members(seed_factory, 2) + [seed_factory.personalise("obrien@example.org", "O'Brien & <Co>")]
    backend, server = provider_backend("sendgrid")
    with backend:
        backend.send_batch(batch)
    [request] = server.requests
    deliveries = sendgrid_deliveries(request)
    assert list(deliveries) == [m.recipient for m in batch]
    for message in batch:
        copy = deliveries[message.recipient]
        assert copy["content"] == {"text/plain": message.text, "text/html": message.html}
        assert copy["headers"]["Message-ID"] == message.message_id
        assert copy["headers"]["List-Unsubscribe"] == dict(message.headers)["List-Unsubscribe"]
        assert copy["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    data = request.json()
    assert data["from"] == {"email": seed_factory.from_email, "name": "ICLEI Japan News"}
    assert data["personalizations"][2]["to"] == [{"email": "obrien@example.org", "name": "O'Brien & <Co>"}]
    assert data["personalizations"][0]["custom_args"] == {"digest_message_id": batch[0].message_id}


def test_accepted_request_records_the_x_message_id_as_queued(provider_backend, seed_factory):
    backend, server = provider_backend("sendgrid")
    server.queued.append(Reply(202, b"", {"X-Message-Id": "sg-batch-1"}))
    with backend:
        results = backend.send_batch(members(seed_factory, 2))
    assert {(r.status, r.message_id) for r in results} == {(Status.QUEUED, "sg-batch-1")}


def test_a_refused_personalization_is_permanent_and_the_others_are_retried(provider_backend, seed_factory):
    backend, server = provider_backend("sendgrid")
    server.queued.append(Reply(400, {"errors": [{"message": "Does not contain a valid address.",
                                                 "field": "personalizations.1.to.0.email", "help": None}]}))
    with backend:
        results = backend.send_batch(members(seed_factory, 3))
    assert [r.status for r in results] == [Status.TEMPORARY, Status.PERMANENT, Status.TEMPORARY]
    assert results[1].reason == "Does not contain a valid address."
    assert "refused another member" in results[0].reason


def test_a_refusal_naming_no_member_refuses_the_batch(provider_backend, seed_factory):
    backend, server = provider_backend("sendgrid")
    server.queued.append(Reply(400, {"errors": [{"message": "The from object must be provided.", "field": "from"}]}))
    with backend, pytest.raises(DeliveryError, match="from object must be provided"):
        backend.send_batch(members(seed_factory, 2))
