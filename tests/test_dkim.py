"""DKIM signing: the seed issue signed per member by the outbox and the SMTP backend,
verified by dkimpy against the public key the loopback DNS server publishes; a changed
body or header fails; key mistakes are one-line errors that never show the key."""
from __future__ import annotations

import email

import dkim
import pytest
from cryptography.hazmat.primitives import serialization

from digest.delivery.backends import get_backend
from digest.delivery.batches import SendOptions
from digest.delivery.dkim import signer_for
from digest.delivery.audience import members_file_source, prepare_send
from digest.delivery.send import send_issue
from digest.errors import ConfigError, DkimKeyError
from digest.render.mime import MessageFactory
from digest.store.ledger import SendLedger

from .conftest import settings_with, write_members
from .deliverability import add_sending_domain, dkim_keys, dns_zones, txt_lookup  # noqa: F401 (fixtures)

REQUIRED = {b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe", b"list-unsubscribe-post",
            b"mime-version", b"content-type"}


def signing_settings(tmp_path, key_path, **overrides):
    values = {"newsletter_from_email": "news@signed.test", "dkim_selector": "sel", "dkim_private_key_path": str(key_path)}
    values.update(overrides)
    return settings_with(tmp_path, **values)


def send(settings, seed_rendered, members):
    factory = MessageFactory(seed_rendered, settings, "secret")
    with SendLedger(settings.path("ledger")) as ledger:
        plan = prepare_send(ledger, seed_rendered.issue.slug, "outbox", members_file_source(members), explicit=False)
        return send_issue(factory, ledger, plan.run, lambda: get_backend(settings), SendOptions.from_settings(settings))


def signature_tags(raw: bytes) -> dict[bytes, bytes]:
    message = email.message_from_bytes(raw)
    value = "".join(message["DKIM-Signature"].split()).encode()
    return dict(part.split(b"=", 1) for part in value.split(b";") if part)


@pytest.fixture
def published(dns_zones, dkim_keys):
    """The signed.test zone with both keys published (rsa at "sel", ed25519 at "ed"); returns the dnsfunc."""
    zones, server = dns_zones
    if ("sel._domainkey.signed.test.", "TXT") not in zones.records:
        add_sending_domain(zones, "signed.test", dkim_keys["rsa"][1])
        zones.txt("ed._domainkey.signed.test", dkim_keys["ed25519"][1].dns_record())
    return txt_lookup(server.nameserver)


@pytest.mark.parametrize("key, selector", [("rsa", "sel"), ("ed25519", "ed")])
def test_outbox_messages_are_signed_per_member_and_verify_against_the_zone(tmp_path, seed_rendered, dkim_keys,
                                                                             published, key, selector):
    settings = signing_settings(tmp_path, dkim_keys[key][0], dkim_selector=selector)
    send(settings, seed_rendered, write_members(tmp_path / "members.csv", 3))
    files = sorted((tmp_path / "outbox" / "2015-10").glob("*.eml"))
    assert len(files) == 3
    for path in files:
        raw = path.read_bytes()
        assert raw.startswith(b"DKIM-Signature: ")
        assert dkim.verify(raw, dnsfunc=published), path.name
        tags = signature_tags(raw)
        assert tags[b"a"] == f"{key}-sha256".encode() and tags[b"d"] == b"signed.test" and tags[b"s"] == selector.encode()
        assert REQUIRED <= set(tags[b"h"].split(b":"))


def test_smtp_messages_are_signed_and_verify(tmp_path, seed_rendered, dkim_keys, published, smtp_sink):
    handler, port = smtp_sink
    settings = signing_settings(tmp_path, dkim_keys["rsa"][0], delivery_backend="smtp", smtp_host="127.0.0.1",
                                smtp_port=port, smtp_security="none")
    send(settings, seed_rendered, write_members(tmp_path / "members.csv", 3))
    assert handler.count == 3
    assert all(dkim.verify(received.raw, dnsfunc=published) for received in handler.received)
    bodies = {received.parsed().get_body(("plain",)).get_content() for received in handler.received}
    assert len(bodies) == 3  # each member's own message, each with its own signature


def test_a_changed_body_or_header_fails_verification(tmp_path, seed_rendered, dkim_keys, published):
    settings = signing_settings(tmp_path, dkim_keys["rsa"][0])
    send(settings, seed_rendered, write_members(tmp_path / "members.csv", 1))
    raw = next((tmp_path / "outbox" / "2015-10").glob("*.eml")).read_bytes()
    assert dkim.verify(raw, dnsfunc=published)
    assert not dkim.verify(raw.replace(b"Dear Member 0,", b"Dear Member 9,", 1), dnsfunc=published)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert not dkim.verify(head.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                                        b"List-Unsubscribe-Post: nothing") + b"\r\n\r\n" + body, dnsfunc=published)
    # Verifiers read the last instance of a header first; one added above the signed one
    # is caught only because Subject and From are signed once more than they occur.
    assert not dkim.verify(b"Subject: a second subject\r\n" + raw, dnsfunc=published)
    assert not dkim.verify(b"From: someone@else.test\r\n" + raw, dnsfunc=published)


def test_the_signature_of_another_key_does_not_verify(tmp_path, seed_rendered, dkim_keys, published):
    settings = signing_settings(tmp_path, dkim_keys["other-rsa"][0])  # "sel" publishes the rsa key, not this one
    send(settings, seed_rendered, write_members(tmp_path / "members.csv", 1))
    raw = next((tmp_path / "outbox" / "2015-10").glob("*.eml")).read_bytes()
    assert raw.startswith(b"DKIM-Signature: ") and not dkim.verify(raw, dnsfunc=published)


def test_without_a_key_messages_are_sent_unsigned(tmp_path, seed_factory):
    raw = seed_factory.personalise("a@example.org").raw
    assert signer_for(settings_with(tmp_path))(raw) is raw


def test_the_key_may_come_from_an_environment_variable(tmp_path, seed_rendered, dkim_keys, monkeypatch, published):
    monkeypatch.setenv("TEST_DKIM_KEY", dkim_keys["rsa"][0].read_text())
    settings = signing_settings(tmp_path, "", dkim_private_key_env="TEST_DKIM_KEY")
    message = MessageFactory(seed_rendered, settings, "secret").personalise("a@example.org")
    assert dkim.verify(signer_for(settings)(message.raw), dnsfunc=published)


def pkcs1(key_path, tmp_path):
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    path = tmp_path / "pkcs1.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    return path


def encrypted(key_path, tmp_path):
    key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    path = tmp_path / "encrypted.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(b"pw")))
    return path


def garbage(key_path, tmp_path):
    path = tmp_path / "garbage.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n")
    return path


@pytest.mark.parametrize("make, error, message", [
    (lambda key, folder: folder / "missing.pem", DkimKeyError, r"DKIM private key .*missing\.pem does not exist"),
    (pkcs1, DkimKeyError, r"is not a PKCS#8 PEM key .*: convert it with `openssl pkcs8 -topk8"),
    (encrypted, DkimKeyError, r"is not a PKCS#8 PEM key .*: it is encrypted"),
    (garbage, DkimKeyError, r"is not a readable PKCS#8 PEM key$"),
])
def test_key_file_mistakes_are_one_line_errors_without_the_key(tmp_path, dkim_keys, make, error, message):
    path = make(dkim_keys["rsa"][0], tmp_path)
    with pytest.raises(error, match=message) as caught:
        get_backend(signing_settings(tmp_path, path))
    assert "\n" not in str(caught.value) and "c2VjcmV0" not in str(caught.value) and "MII" not in str(caught.value)


@pytest.mark.parametrize("overrides, message", [
    ({"dkim_selector": ""}, r"^\[dkim\] selector is not set"),
    ({"dkim_selector": "bad selector"}, r"^\[dkim\] selector 'bad selector' is not a DNS name"),
    ({"dkim_algorithm": "ed25519-sha256"}, r"^\[dkim\] algorithm is ed25519-sha256 but .* is a key for rsa-sha256$"),
    ({"dkim_algorithm": "rsa-sha1"}, r"^\[dkim\] algorithm must be one of rsa-sha256, ed25519-sha256"),
    ({"dkim_private_key_env": "SOME_VARIABLE"}, r"^\[dkim\] sets both private_key_path and private_key_env"),
])
def test_dkim_config_mistakes_are_one_line_errors(tmp_path, dkim_keys, overrides, message):
    with pytest.raises(ConfigError, match=message):
        get_backend(signing_settings(tmp_path, dkim_keys["rsa"][0], **overrides), "smtp")


def test_an_unset_key_variable_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_DKIM_KEY", raising=False)
    with pytest.raises(DkimKeyError, match=r"^environment variable NO_SUCH_DKIM_KEY \(the DKIM private key\) is not set$"):
        get_backend(signing_settings(tmp_path, "", dkim_private_key_env="NO_SUCH_DKIM_KEY"))
