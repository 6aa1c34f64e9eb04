"""Mailgun batch sending: one body with %recipient.KEY% placeholders, and what Mailgun
fills in for each recipient is exactly that member's own message."""
from __future__ import annotations

from digest.delivery.backends import get_backend
from digest.delivery.backends.base import Status
from digest.render.mime import MessageFactory

from .conftest import with_table
from .fake_provider import Reply
from .provider_formats import DOMAIN, mailgun_deliveries
from .test_http_backends import members


def test_each_recipient_receives_exactly_their_own_personalised_message(provider_backend, seed_factory):
    batch = members(seed_factory, 2) + [seed_factory.personalise("obrien@example.org", "O'Brien & <Co>"),
                                        seed_factory.personalise("anon@example.org")]
    backend, server = provider_backend("mailgun")
    with backend:
        backend.send_batch(batch)
    [request] = server.requests
    deliveries = mailgun_deliveries(request)
    assert list(deliveries) == [m.recipient for m in batch]
    for message in batch:
        copy = deliveries[message.recipient]
        assert copy["html"] == message.html and copy["text"] == message.text
        assert copy["h:Message-Id"] == copy["v:digest-message-id"] == message.message_id
        assert copy["h:List-Unsubscribe"] == dict(message.headers)["List-Unsubscribe"]
        assert "%recipient." not in "".join(copy.values())
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in deliveries["obrien@example.org"]["html"]
    assert "Dear O'Brien & <Co>," in deliveries["obrien@example.org"]["text"]
    assert "Hello," in deliveries["anon@example.org"]["text"]


def test_the_one_batch_id_is_recorded_as_queued_for_every_member(provider_backend, seed_factory):
    backend, server = provider_backend("mailgun")
    server.queued.append(Reply(200, {"id": "<batch-1@mg.example.org>", "message": "Queued. Thank you."}))
    with backend:
        results = backend.send_batch(members(seed_factory, 3))
    assert {(r.status, r.message_id) for r in results} == {(Status.QUEUED, "<batch-1@mg.example.org>")}


def test_a_thousand_recipients_go_in_one_call(provider_backend, seed_factory):
    backend, server = provider_backend("mailgun")
    with backend:
        results = backend.send_batch(members(seed_factory, 1000))
    assert len(server.requests) == 1 and len(results) == 1000


def test_messages_that_cannot_share_a_body_go_in_separate_calls_and_results_keep_order(provider_backend, seed_factory, seed_rendered, settings):
    other = MessageFactory(seed_rendered, settings, "test-secret", subject="A different subject")
    batch = [seed_factory.personalise("a@example.org"), other.personalise("b@example.org"),
             seed_factory.personalise("c@example.org"), seed_factory.personalise("A@example.org")]
    backend, server = provider_backend("mailgun")
    with backend:
        results = backend.send_batch(batch)
    subjects = [dict(r.form())["subject"] for r in server.requests]
    assert subjects == [seed_factory.subject, "A different subject", seed_factory.subject]
    assert [r.recipient for r in results] == [m.recipient for m in batch]


def test_the_sending_domain_defaults_to_the_from_address_domain(provider_backend, settings):
    provider_backend("mailgun")  # puts the key in the environment
    backend = get_backend(with_table(settings, "mailgun", domain=""), "mailgun")
    assert backend.domain == DOMAIN
