"""The SMTP backend against a real aiosmtpd server on loopback: one connection reused,
STARTTLS/SSL with a test certificate, AUTH, 4xx retried, 5xx recorded, dropped
connections reopened."""
from __future__ import annotations

import pytest

from digest.delivery.backends import get_backend
from digest.delivery.backends.base import Status
from digest.config import load_settings
from digest.content import load_issue
from digest.errors import ConfigError, DeliveryError
from digest.store.engines import ledger_target as target_of
from digest.store.ledger import SendLedger
from digest.render import render_issue
from digest.render.mime import MessageFactory
from digest.delivery.batches import SendOptions
from digest.delivery.audience import members_file_source, prepare_send
from digest.delivery.send import send_issue

from .conftest import REPO, SEED_ISSUE, settings_with, write_members
from .smtp_sink import SinkHandler, server_tls_context, start_sink


@pytest.fixture(scope="module")
def rendered():
    settings = load_settings(REPO / "config.toml", environ={})
    return render_issue(load_issue(SEED_ISSUE), settings)


def run_send(settings, rendered, members, stop=None):
    factory = MessageFactory(rendered, settings, "secret")
    with SendLedger(target_of(settings)) as ledger:
        plan = prepare_send(ledger, rendered.issue.slug, "smtp", members_file_source(members), explicit=False)
        report = send_issue(factory, ledger, plan.run, lambda: get_backend(settings), SendOptions.from_settings(settings),
                            stop=stop)
        run = ledger.send_run(rendered.issue.slug)
        return report, ledger.counts(run.id), {d.email: d for d in ledger.unfinished(run.id)}


def smtp_settings(tmp_path, port, ledger=None, **overrides):
    values = {"delivery_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
              "smtp_timeout": 5}
    values.update(overrides)
    return settings_with(tmp_path, ledger, **values)


def test_smtp_delivers_every_member_over_one_reused_connection(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    members = write_members(tmp_path / "members.csv", 30)
    report, counts, _ = run_send(smtp_settings(tmp_path, port, ledger_target), rendered, members)
    assert counts == {"sent": 30} and report.complete
    assert sorted(handler.recipients()) == [f"m{n:04d}@example.org" for n in range(30)]
    assert set(handler.recipients().values()) == {1}
    assert handler.connections == 1
    message = handler.received[0].parsed()
    assert message["To"] == "Member 0 <m0000@example.org>"
    assert "Dear Member 0," in message.get_body(("plain",)).get_content()


def test_concurrency_gives_each_worker_its_own_connection(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    members = write_members(tmp_path / "members.csv", 40)
    settings = smtp_settings(tmp_path, port, ledger_target, sending_concurrency=3, sending_batch_size=4)
    report, counts, _ = run_send(settings, rendered, members)
    assert counts == {"sent": 40}
    assert set(handler.recipients().values()) == {1} and len(handler.recipients()) == 40
    assert 1 <= handler.connections <= 3


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_configured_ca_and_login(tmp_path, rendered, certificate, monkeypatch, security):
    cert, key = certificate
    handler = SinkHandler()
    tls = server_tls_context(cert, key)
    # aiosmtpd only knows TLS it negotiated itself: with implicit TLS it must be told AUTH is fine
    if security == "starttls":
        options = {"tls_context": tls, "require_starttls": True, "auth_require_tls": True}
    else:
        options = {"ssl_context": tls, "auth_require_tls": False}
    controller = start_sink(handler, authenticator=handler.authenticate, **options)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    try:
        settings = smtp_settings(tmp_path, controller.port, smtp_security=security, smtp_ca_file=str(cert),
                                 smtp_username="digest", smtp_password_env="TEST_SMTP_PASSWORD")
        report, counts, _ = run_send(settings, rendered, write_members(tmp_path / "members.csv", 3))
    finally:
        controller.stop()
    assert counts == {"sent": 3}
    assert handler.count == 3 and handler.logins == ["digest"]


def test_wrong_password_stops_before_any_message(tmp_path, rendered, certificate, monkeypatch):
    cert, key = certificate
    handler = SinkHandler()
    controller = start_sink(handler, tls_context=server_tls_context(cert, key), require_starttls=True,
                            authenticator=handler.authenticate, auth_exclude_mechanism=["LOGIN"])
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    try:
        settings = smtp_settings(tmp_path, controller.port, smtp_security="starttls", smtp_ca_file=str(cert),
                                 smtp_username="digest", smtp_password_env="TEST_SMTP_PASSWORD")
        with pytest.raises(DeliveryError, match="refused the login for digest.*535"):
            run_send(settings, rendered, write_members(tmp_path / "members.csv", 3))
    finally:
        controller.stop()
    assert handler.count == 0


def test_server_certificate_not_trusted_is_a_delivery_error(tmp_path, rendered, certificate):
    cert, key = certificate
    handler = SinkHandler()
    controller = start_sink(handler, tls_context=server_tls_context(cert, key), require_starttls=True)
    try:
        settings = smtp_settings(tmp_path, controller.port, smtp_security="starttls")
        with pytest.raises(DeliveryError, match="TLS with SMTP server 127.0.0.1:.* failed"):
            run_send(settings, rendered, write_members(tmp_path / "members.csv", 2))
    finally:
        controller.stop()
    assert handler.count == 0


def test_starttls_refused_by_a_local_server_suggests_security_none(tmp_path, rendered, smtp_sink):
    handler, port = smtp_sink
    with pytest.raises(DeliveryError, match='STARTTLS extension not supported by server.* needs \\[smtp\\] security = "none"'):
        run_send(smtp_settings(tmp_path, port, smtp_security="starttls"), rendered, write_members(tmp_path / "members.csv", 2))
    assert handler.count == 0


def test_4xx_is_retried_and_5xx_is_recorded_without_retry(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    handler.replies["m0001@example.org"] = ["451 4.3.0 try again later", "452 4.2.2 mailbox busy"]
    handler.replies["m0002@example.org"] = ["550 5.1.1 no such user"]
    report, counts, unfinished = run_send(smtp_settings(tmp_path, port, ledger_target, sending_retries=3), rendered,
                                          write_members(tmp_path / "members.csv", 4))
    assert counts == {"sent": 3, "failed": 1}
    assert handler.rcpt_attempts["m0001@example.org"] == 3 and handler.recipients()["m0001@example.org"] == 1
    assert handler.rcpt_attempts["m0002@example.org"] == 1
    assert unfinished["m0002@example.org"].state == "failed"
    assert unfinished["m0002@example.org"].error == "550 5.1.1 no such user"
    assert report.complete


def test_4xx_beyond_the_retries_is_deferred_to_the_next_run(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    handler.replies["m0000@example.org"] = ["450 4.2.0 greylisted"] * 3
    settings = smtp_settings(tmp_path, port, ledger_target, sending_retries=1)
    members = write_members(tmp_path / "members.csv", 3)
    report, counts, unfinished = run_send(settings, rendered, members)
    assert counts == {"sent": 2, "deferred": 1} and not report.complete
    assert unfinished["m0000@example.org"].error == "450 4.2.0 greylisted"
    report, counts, _ = run_send(settings, rendered, members)
    assert counts == {"sent": 3} and report.complete
    assert handler.recipients() == {f"m{n:04d}@example.org": 1 for n in range(3)}


def test_421_closes_the_connection_and_the_next_message_reconnects(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    handler.replies["m0001@example.org"] = ["421 4.7.0 too many messages, closing"]
    report, counts, _ = run_send(smtp_settings(tmp_path, port, ledger_target), rendered, write_members(tmp_path / "members.csv", 4))
    assert counts == {"sent": 4}
    assert handler.recipients()["m0001@example.org"] == 1
    assert handler.connections == 2


def test_connection_dropped_mid_data_is_retried_on_a_new_connection(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    handler.drop_in_data.add("m0002@example.org")
    report, counts, _ = run_send(smtp_settings(tmp_path, port, ledger_target), rendered, write_members(tmp_path / "members.csv", 5))
    assert counts == {"sent": 5}
    assert handler.recipients() == {f"m{n:04d}@example.org": 1 for n in range(5)}
    assert handler.connections == 2


def test_unreachable_server_stops_the_run_with_members_deferred(tmp_path, ledger_target, rendered):
    from .smtp_sink import free_port

    settings = smtp_settings(tmp_path, free_port(), ledger_target, sending_retries=1, sending_batch_size=2)
    with pytest.raises(DeliveryError, match="cannot connect to SMTP server 127.0.0.1"):
        run_send(settings, rendered, write_members(tmp_path / "members.csv", 6))
    with SendLedger(target_of(settings)) as ledger:
        assert ledger.counts(ledger.send_run("2015-10").id) == {"deferred": 2}


def test_per_recipient_results_carry_our_message_id(tmp_path, ledger_target, rendered, smtp_sink):
    handler, port = smtp_sink
    settings = smtp_settings(tmp_path, port, ledger_target)
    factory = MessageFactory(rendered, settings, "secret")
    messages = [factory.personalise("a@example.org"), factory.personalise("b@example.org")]
    with get_backend(settings) as backend:
        results = backend.send_batch(messages)
    assert [(r.recipient, r.status, r.message_id) for r in results] == [
        (m.recipient, Status.SENT, m.message_id) for m in messages]
    assert [r.message_id for r in handler.received] == [m.message_id for m in messages]


def test_missing_password_variable_is_a_config_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SMTP_PASSWORD", raising=False)
    settings = smtp_settings(tmp_path, 25, smtp_username="bob", smtp_password_env="NO_SUCH_SMTP_PASSWORD")
    with pytest.raises(ConfigError, match="^environment variable NO_SUCH_SMTP_PASSWORD .* is not set$"):
        get_backend(settings)


def test_unknown_security_mode_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="security must be one of starttls, ssl, none"):
        get_backend(smtp_settings(tmp_path, 25, smtp_security="tls13"))
