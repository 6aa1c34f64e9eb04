"""The SMTP server we send through: it answers, speaks TLS (STARTTLS or implicit, as
``[smtp] security`` says) with a certificate valid for its name, trusted by the
system or by ``[smtp] ca_file``, and offers AUTH only once TLS is up, so the password
never crosses the network in clear. One short session, no mail sent."""
from __future__ import annotations

import smtplib
import socket
import ssl

from .findings import Finding, error, info, warning
from .sender import SmtpServer

_TIMEOUT_CAP = 10.0


def check_smtp(server: SmtpServer) -> list[Finding]:
    where = f"{server.host}:{server.port}"
    context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
    trust = f"[smtp] ca_file {server.ca_file}" if server.ca_file else "the system's certificate authorities"
    timeout = min(server.timeout, _TIMEOUT_CAP)
    findings: list[Finding] = []
    try:
        if server.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=timeout)
    except ssl.SSLCertVerificationError as exc:
        return [_bad_certificate(where, server, exc, trust)]
    except ssl.SSLError as exc:
        return [error("smtp-tls", where, f"the TLS handshake failed ({exc.reason or exc})",
                      "check [smtp] port and security: implicit TLS (ssl) is usually port 465, STARTTLS 587")]
    except (OSError, smtplib.SMTPException) as exc:
        return [error("smtp-unreachable", where, f"the SMTP server does not answer ({exc or type(exc).__name__})",
                      "check [smtp] host and port, and that this machine may connect to it")]
    try:
        connection.ehlo()
        if server.security != "ssl":
            if connection.has_extn("auth"):
                findings.append(error("smtp-auth-without-tls", where,
                                      "the server offers AUTH before TLS, so a password can be sent in clear",
                                      "ask the server's admin to offer AUTH only after STARTTLS (e.g. Postfix smtpd_tls_auth_only = yes)"))
            if not connection.has_extn("starttls"):
                if server.security == "starttls":
                    findings.append(error("smtp-no-starttls", where, "the server does not offer STARTTLS, so sending fails",
                                          "use a server that offers STARTTLS, or [smtp] security = \"ssl\" with its TLS port"))
                else:
                    findings.append(warning("smtp-plaintext", where, "[smtp] security is none and the server offers no TLS: "
                                            "mail crosses the network in clear", "use a server that offers TLS"))
                return findings
            if server.security == "none":
                findings.append(warning("smtp-plaintext", where, "[smtp] security is none although the server offers STARTTLS",
                                        'set [smtp] security = "starttls"'))
                return findings
            connection.starttls(context=context)
            connection.ehlo()
        if server.username and not connection.has_extn("auth"):
            findings.append(error("smtp-no-auth", where, f"the server offers no AUTH over TLS, so the login as {server.username} fails",
                                  "check [smtp] host, port and username, or leave username empty if the server needs no login"))
        if not findings:
            mode = "implicit TLS" if server.security == "ssl" else "STARTTLS"
            findings.append(info("smtp-ok", where, f"answers; {mode} with a certificate valid for {server.host} ({trust}); "
                                 "AUTH only over TLS"))
    except ssl.SSLCertVerificationError as exc:
        findings.append(_bad_certificate(where, server, exc, trust))
    except ssl.SSLError as exc:
        findings.append(error("smtp-tls", where, f"the TLS handshake failed ({exc.reason or exc})", "check the server's TLS setup"))
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        findings.append(error("smtp-unreachable", where, f"the SMTP session failed ({exc or type(exc).__name__})",
                              "check [smtp] host, port and security"))
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return findings


def _bad_certificate(where: str, server: SmtpServer, exc: ssl.SSLCertVerificationError, trust: str) -> Finding:
    reason = exc.verify_message or exc.reason or str(exc)
    return error("smtp-certificate", where, f"the server's certificate does not verify for {server.host} against {trust} ({reason})",
                 "use the host name the certificate is issued for in [smtp] host, or set [smtp] ca_file to the CA that signed it")
