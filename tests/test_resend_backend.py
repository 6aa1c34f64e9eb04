"""Resend: a deterministic Idempotency-Key per batch, and permissive validation whose
refused emails are named by index."""
from __future__ import annotations

from dataclasses import replace
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest

from digest.delivery.backends.base import Status
from digest.delivery.backends.resend import idempotency_key
from digest.render.mime import MessageFactory

from .fake_provider import Reply
from .test_http_backends import members


def test_emails_carry_our_headers_and_the_batch_an_idempotency_key(provider_backend, seed_factory):
    backend, server = provider_backend("resend")
    batch = members(seed_factory, 2)
    with backend:
        backend.send_batch(batch)
    [request] = server.requests
    assert request.header("Idempotency-Key") == idempotency_key(batch)
    assert request.header("x-batch-validation") == "permissive"
    sent = request.json()
    assert sent[0]["to"] == [batch[0].to_header] and sent[0]["html"] == batch[0].html and sent[1]["text"] == batch[1].text
    assert sent[0]["reply_to"] == [batch[0].reply_to]
    assert sent[1]["headers"]["Message-ID"] == batch[1].message_id
    assert sent[1]["headers"]["List-Unsubscribe"] == dict(batch[1].headers)["List-Unsubscribe"]


def test_idempotency_key_is_the_same_for_a_resent_batch_and_differs_for_another(seed_factory):
    batch = members(seed_factory, 100)
    again = [replace(m) for m in batch]
    key = idempotency_key(batch)
    assert key == idempotency_key(again) and len(key) <= 256
    assert key != idempotency_key(batch[:99]) and key != idempotency_key(members(seed_factory, 100))


def test_refused_emails_are_permanent_and_ids_go_to_the_right_members(provider_backend, seed_factory):
    backend, server = provider_backend("resend")
    server.queued.append(Reply(200, {"data": [{"id": "id-a"}, {"id": "id-c"}],
                                     "errors": [{"index": 1, "message": "Invalid `to` field."}]}))
    with backend:
        results = backend.send_batch(members(seed_factory, 3))
    assert [(r.status, r.message_id) for r in results] == [(Status.QUEUED, "id-a"), (Status.PERMANENT, ""), (Status.QUEUED, "id-c")]
    assert results[1].reason == "Invalid `to` field."


@pytest.mark.parametrize(("from_name", "sent_as"), [
    ("イクレイ日本, Tokyo", "news@iclei-japan.example.org"),           # would need quoting: the name is left out
    ("イクレイ日本", "イクレイ日本 <news@iclei-japan.example.org>"),   # no encoded word in from: sent as Unicode
    ("ICLEI Japan News", "ICLEI Japan News <news@iclei-japan.example.org>"),
])
def test_from_is_never_quoted_or_encoded(provider_backend, seed_rendered, settings, from_name, sent_as):
    newsletter = replace(settings.newsletter, from_name=from_name)
    factory = MessageFactory(seed_rendered, replace(settings, newsletter=newsletter), "test-secret")
    backend, server = provider_backend("resend")
    with backend:
        [result] = backend.send_batch([factory.personalise("a@example.org")])
    assert result.status is Status.QUEUED
    assert server.requests[0].json()[0]["from"] == sent_as


@pytest.mark.parametrize(("name", "sent_as"), [
    ("Smith, John", "=?utf-8?q?Smith=2C_John?= <smith@example.org>"),
    ('Jo "JJ" Lee', "=?utf-8?q?Jo_=22JJ=22_Lee?= <smith@example.org>"),
    ("田中 愛子", "=?utf-8?b?55Sw5LitIOaEm+WtkA==?= <smith@example.org>"),
    ("Aiko Tanaka", "Aiko Tanaka <smith@example.org>"),
    ("", "smith@example.org"),
])
def test_member_names_resend_refuses_when_quoted_are_sent_as_encoded_words(provider_backend, seed_factory, name, sent_as):
    backend, server = provider_backend("resend")
    with backend:
        [result] = backend.send_batch([seed_factory.personalise("smith@example.org", name)])
    assert result.status is Status.QUEUED
    [to] = server.requests[0].json()[0]["to"]
    assert to == sent_as
    [(display, address)] = getaddresses([to])
    assert address == "smith@example.org" and str(make_header(decode_header(display))) == name


def test_a_hundred_emails_go_in_one_call(provider_backend, seed_factory):
    backend, server = provider_backend("resend")
    with backend:
        results = backend.send_batch(members(seed_factory, 100))
    assert len(server.requests) == 1 and all(r.status is Status.QUEUED for r in results)
