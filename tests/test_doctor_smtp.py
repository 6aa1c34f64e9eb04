"""The doctor's SMTP checks against aiosmtpd on loopback: STARTTLS and implicit TLS with a
self-signed certificate and with one valid for localhost signed by a test CA (honouring
[smtp] ca_file), AUTH offered before TLS, no STARTTLS, and a server that is not there."""
from __future__ import annotations

import pytest

from digest.doctor import Severity
from digest.doctor.sender import SmtpServer
from digest.doctor.smtp import check_smtp

from .smtp_sink import SinkHandler, free_port, server_tls_context, start_sink
from .tls_certs import CertificateAuthority


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def server():
    """``start(cert, key, **aiosmtpd options)`` -> port; stopped after the test."""
    started = []

    def start(cert=None, key=None, **options):
        if cert is not None:
            tls = server_tls_context(cert, key)
            options.setdefault("ssl_context" if options.pop("implicit", False) else "tls_context", tls)
        handler = SinkHandler()
        controller = start_sink(handler, authenticator=handler.authenticate, **options)
        started.append(controller)
        return controller.port

    yield start
    for controller in started:
        controller.stop()


def smtp(port, host="127.0.0.1", security="starttls", ca_file=None, username="digest"):
    return SmtpServer(host, port, security, username, 5.0, ca_file)


def codes(findings, severity=Severity.ERROR):
    return {f.code for f in findings if f.severity is severity}


def test_self_signed_certificate_without_ca_file_does_not_verify(server, certificate):
    port = server(*certificate)
    findings = check_smtp(smtp(port))
    assert codes(findings) == {"smtp-certificate"}
    assert "self-signed certificate" in findings[0].problem and "ca_file" in findings[0].fix


def test_self_signed_certificate_named_in_ca_file_verifies(server, certificate):
    port = server(*certificate)
    findings = check_smtp(smtp(port, ca_file=certificate[0]))
    assert [f.code for f in findings] == ["smtp-ok"]


def test_certificate_for_localhost_from_the_test_ca_verifies_for_localhost(server, authority):
    port = server(*authority.issue("localhost", "localhost"))
    findings = check_smtp(smtp(port, host="localhost", ca_file=authority.certificate))
    assert [f.code for f in findings] == ["smtp-ok"]
    assert "valid for localhost" in findings[0].problem


def test_certificate_for_another_name_does_not_verify(server, authority):
    port = server(*authority.issue("other", "mail.elsewhere.test"))
    findings = check_smtp(smtp(port, host="localhost", ca_file=authority.certificate))
    assert codes(findings) == {"smtp-certificate"}
    assert "Hostname mismatch" in findings[0].problem


def test_implicit_tls_verifies_against_ca_file(server, authority):
    port = server(*authority.issue("implicit", "localhost"), implicit=True, auth_require_tls=False)
    assert [f.code for f in check_smtp(smtp(port, "localhost", "ssl", authority.certificate))] == ["smtp-ok"]
    assert codes(check_smtp(smtp(port, "localhost", "ssl"))) == {"smtp-certificate"}


def test_auth_offered_before_starttls_is_an_error(server, certificate):
    port = server(*certificate, auth_require_tls=False)
    findings = check_smtp(smtp(port, ca_file=certificate[0]))
    assert codes(findings) == {"smtp-auth-without-tls"}


def test_server_without_starttls_is_an_error_when_starttls_is_configured(server):
    port = server()
    assert codes(check_smtp(smtp(port, username=""))) == {"smtp-no-starttls"}


def test_security_none_is_a_warning_and_says_starttls_is_there(server, certificate):
    port = server(*certificate)
    findings = check_smtp(smtp(port, security="none", username=""))
    assert codes(findings) == set() and codes(findings, Severity.WARNING) == {"smtp-plaintext"}
    assert 'security = "starttls"' in findings[0].fix


def test_a_server_that_does_not_answer_is_an_error():
    assert codes(check_smtp(smtp(free_port()))) == {"smtp-unreachable"}
