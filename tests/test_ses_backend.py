"""Amazon SES v2: one raw message a call, signed with SigV4, errors read from
x-amzn-ErrorType."""
from __future__ import annotations

import base64
import sys

import pytest

from digest.delivery.backends import get_backend
from digest.delivery.backends.base import Status
from digest.errors import ConfigError, DeliveryError, TemporaryDeliveryError

from .conftest import with_table
from .fake_provider import Reply
from .provider_formats import AWS_KEY_ID, REGION, SIGV4, ses_signature


def test_raw_data_is_the_members_message_and_the_request_is_sigv4_signed(provider_backend, seed_factory):
    backend, server = provider_backend("ses", configuration_set="newsletter")
    message = seed_factory.personalise("member@example.org", "Member")
    with backend:
        [result] = backend.send_batch([message])
    [request] = server.requests
    data = request.json()
    assert base64.b64decode(data["Content"]["Raw"]["Data"]) == message.raw
    assert data["Destination"] == {"ToAddresses": ["member@example.org"]}
    assert data["ConfigurationSetName"] == "newsletter"
    match = SIGV4.match(request.header("Authorization"))
    assert match and match["key"] == AWS_KEY_ID and match["region"] == REGION
    assert ses_signature(request, match["signed"]) == match["signature"]
    assert result.status is Status.SENT and result.message_id.startswith("0102")


def test_signature_check_catches_a_changed_body(provider_backend, seed_factory):
    backend, server = provider_backend("ses")
    with backend:
        backend.send_batch([seed_factory.personalise("member@example.org")])
    request = server.requests[0]
    signed = SIGV4.match(request.header("Authorization"))
    request.body = request.body.replace(b"member@example.org", b"other@example.org")
    assert ses_signature(request, signed["signed"]) != signed["signature"]


def test_session_token_is_signed_in_when_its_variable_is_set(provider_backend, seed_factory, monkeypatch):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "temporary-token")
    backend, server = provider_backend("ses")
    with backend:
        backend.send_batch([seed_factory.personalise("member@example.org")])
    request = server.requests[0]
    assert request.header("X-Amz-Security-Token") == "temporary-token"
    assert "x-amz-security-token" in SIGV4.match(request.header("Authorization"))["signed"]


@pytest.mark.parametrize("kind, outcome", [
    ("MessageRejected", Status.PERMANENT),
    ("TooManyRequestsException", TemporaryDeliveryError),
    ("LimitExceededException", TemporaryDeliveryError),
    ("AccountSuspendedException", DeliveryError),
    ("MailFromDomainNotVerifiedException", DeliveryError),
])
def test_ses_error_types_map_to_member_failure_retry_or_stop(kind, outcome, provider_backend, seed_factory):
    backend, server = provider_backend("ses")
    server.queued.append(Reply(400, {"message": f"{kind} happened"}, {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/"}))
    with backend:
        if isinstance(outcome, Status):
            [result] = backend.send_batch([seed_factory.personalise("member@example.org")])
            assert result.status is outcome and kind in result.reason
        else:
            with pytest.raises(outcome, match=kind) as caught:
                backend.send_batch([seed_factory.personalise("member@example.org")])
            assert outcome is TemporaryDeliveryError or not isinstance(caught.value, TemporaryDeliveryError)


def test_error_type_in_the_body_is_read_when_the_header_is_missing(provider_backend, seed_factory):
    backend, server = provider_backend("ses")
    server.queued.append(Reply(400, {"__type": "com.amazonaws.ses#MessageRejected", "message": "Email address is invalid"}))
    with backend:
        [result] = backend.send_batch([seed_factory.personalise("member@example.org")])
    assert result.status is Status.PERMANENT and result.reason.startswith("MessageRejected:")


def test_default_endpoint_is_the_regional_ses_api(provider_backend, settings):
    provider_backend("ses")  # puts the keys in the environment
    backend = get_backend(with_table(settings, "ses", region="ap-northeast-1"), "ses")
    assert backend.base_url == "https://email.ap-northeast-1.amazonaws.com"


def test_missing_botocore_is_a_config_error_with_the_install_command(provider_backend, settings, monkeypatch):
    provider_backend("ses")
    for name in [n for n in sys.modules if n == "botocore" or n.startswith("botocore.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(ConfigError, match=r"pip install 'digest\[ses\]'"):
        get_backend(settings, "ses")
