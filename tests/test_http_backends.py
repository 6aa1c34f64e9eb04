"""What every HTTP backend shares: documented requests, secrets from the environment, and
one mapping of HTTP outcomes (429/5xx/timeouts retryable, 401 fatal, batch limits)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from digest.delivery.backends import BACKENDS, get_backend
from digest.delivery.backends.base import Status
from digest.delivery.backends.base_http import retry_after
from digest.errors import ConfigError, DeliveryError, TemporaryDeliveryError

from .conftest import with_table
from .fake_provider import Reply
from .provider_formats import AWS_SECRET, KEY, PROVIDERS

HTTP_BACKENDS = sorted(PROVIDERS)
DOCUMENTED_LIMITS = {"postmark": 500, "mailgun": 1000, "sendgrid": 1000, "resend": 100, "ses": 1}


def members(factory, count, start=0):
    return [factory.personalise(f"member{n}@example.org", f"Member {n}") for n in range(start, start + count)]


def test_every_http_backend_is_registered_with_one_line():
    assert set(HTTP_BACKENDS) <= set(BACKENDS)


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_batch_is_delivered_in_the_providers_documented_format(name, provider_backend, seed_factory):
    batch = members(seed_factory, min(3, DOCUMENTED_LIMITS[name]))
    backend, server = provider_backend(name)
    with backend:
        results = backend.send_batch(batch)
    assert [r.recipient for r in results] == [m.recipient for m in batch]
    assert all(r.status.delivered and r.message_id for r in results)
    assert len(server.requests) == 1


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_batch_limit_is_the_providers_documented_limit(name):
    module_name, _, class_name = BACKENDS[name].partition(":")
    backend_class = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    assert backend_class.max_batch == DOCUMENTED_LIMITS[name]


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_more_than_max_batch_messages_is_refused_before_anything_is_sent(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    too_many = [seed_factory.personalise(f"m{n}@example.org") for n in range(backend.max_batch + 1)]
    with backend, pytest.raises(ValueError, match="at most"):
        backend.send_batch(too_many)
    assert server.requests == []


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_missing_secret_variable_is_a_one_line_config_error_and_nothing_is_sent(name, provider_backend, settings, monkeypatch):
    _, server = provider_backend(name)
    variable = next(iter(PROVIDERS[name].environ))
    monkeypatch.delenv(variable)
    configured = with_table(settings, name, base_url=server.url, **PROVIDERS[name].settings)
    with pytest.raises(ConfigError) as caught:
        get_backend(configured, name)
    assert variable in str(caught.value) and "\n" not in str(caught.value)
    assert server.requests == []


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_http_429_is_temporary_and_carries_retry_after(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    server.queued.append(Reply(429, {"message": "slow down"}, {"Retry-After": "7"}))
    with backend, pytest.raises(TemporaryDeliveryError) as caught:
        backend.send_batch(members(seed_factory, 1))
    assert caught.value.retry_after == 7.0
    assert "slow down" in str(caught.value)


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_http_5xx_is_temporary(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    server.queued.append(Reply(503, "upstream unavailable"))
    with backend, pytest.raises(TemporaryDeliveryError, match="HTTP 503.*upstream unavailable") as caught:
        backend.send_batch(members(seed_factory, 1))
    assert caught.value.retry_after is None


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_http_401_is_a_delivery_error_that_never_shows_the_secret(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    server.queued.append(Reply(401, {"message": "invalid key"}))
    with backend, pytest.raises(DeliveryError) as caught:
        backend.send_batch(members(seed_factory, 1))
    assert not isinstance(caught.value, TemporaryDeliveryError)
    assert "HTTP 401" in str(caught.value) and "invalid key" in str(caught.value)
    assert KEY not in str(caught.value) and AWS_SECRET not in str(caught.value)


@pytest.mark.parametrize("name", HTTP_BACKENDS)
def test_timeout_is_temporary(name, provider_backend, seed_factory):
    def slow(request):
        time.sleep(1.0)
        return PROVIDERS[name].accept(request)

    backend, _ = provider_backend(name, answer=slow, timeout=0.2)
    with backend, pytest.raises(TemporaryDeliveryError, match="no answer"):
        backend.send_batch(members(seed_factory, 1))


def test_unreachable_provider_is_temporary(provider_backend, seed_factory):
    backend, server = provider_backend("postmark")
    server.stop()
    with backend, pytest.raises(TemporaryDeliveryError, match="cannot reach"):
        backend.send_batch(members(seed_factory, 1))


def test_provider_reply_in_errors_is_cut_short(provider_backend, seed_factory):
    backend, server = provider_backend("sendgrid")
    server.queued.append(Reply(500, "x" * 5000))
    with backend, pytest.raises(TemporaryDeliveryError) as caught:
        backend.send_batch(members(seed_factory, 1))
    assert len(caught.value.reply) < 400


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 29, 10, 0, 0, tzinfo=timezone.utc)
    assert retry_after("120", now) == 120.0
    assert retry_after("Sun, 29 Nov 2026 10:00:30 GMT", now) == 30.0
    assert retry_after("Sun, 29 Nov 2026 09:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


@pytest.mark.parametrize("name", ["mailgun", "sendgrid", "ses"])
def test_a_single_refused_message_is_that_members_permanent_failure(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    server.queued.append(Reply(400, {"message": "'to' parameter is not a valid address"},
                               {"x-amzn-ErrorType": "MessageRejected"} if name == "ses" else {}))
    with backend:
        [result] = backend.send_batch(members(seed_factory, 1))
    assert result.status is Status.PERMANENT and "not a valid address" in result.reason


@pytest.mark.parametrize("name", ["postmark", "mailgun", "resend"])
def test_a_refused_batch_is_a_delivery_error(name, provider_backend, seed_factory):
    backend, server = provider_backend(name)
    server.queued.append(Reply(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."}))
    with backend, pytest.raises(DeliveryError, match="refused") as caught:
        backend.send_batch(members(seed_factory, 2))
    assert not isinstance(caught.value, TemporaryDeliveryError)


def test_describe_names_the_provider_and_url_but_not_the_secret(provider_backend):
    backend, server = provider_backend("resend")
    assert backend.describe() == f"resend ({server.url})" and KEY not in backend.describe()
