"""``digest doctor`` and the DNS gate before a send: the CLI side of ``digest.doctor``
(print the findings, pick the exit status). The doctor, dnspython and dkimpy are
imported only when a check runs."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from ..config import Settings
from ..errors import DoctorError
from .support import settings_from

if TYPE_CHECKING:
    from ..doctor import Finding, Report


@click.command()
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json prints one object: summary, error and warning counts, and every finding.")
@click.pass_context
def doctor(ctx: click.Context, output_format: str) -> None:
    """Check that your mail can land in the inbox: SPF, DKIM, DMARC, BIMI and MX of the
    From domain and, for the SMTP backend, the server's TLS and AUTH.

    Each finding says what is wrong and the DNS record or setting that fixes it.
    Exits 1 when any finding is an error. DNS is asked through [doctor] nameservers
    (host:port, or DIGEST_DOCTOR_NAMESERVERS=a,b), else the system's resolver.

    Example:

        digest doctor
        digest doctor --format json
    """
    from ..doctor import diagnose

    report = diagnose(settings_from(ctx))
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.summary)
        for finding in report.findings:
            click.echo(_format(finding))
        click.echo(_counts(report))
    if report.errors:
        ctx.exit(1)


def check_before_send(settings: Settings, backend_name: str, skip: bool) -> None:
    """Before a real send through SMTP or an API: SPF, DKIM and DMARC within two seconds.
    Errors stop the send (DoctorError) unless ``skip``; DNS that does not answer is a
    warning and the send goes on. The outbox sends nothing to anybody, so it is not checked."""
    if backend_name == "outbox":
        return
    if skip:
        click.echo("Warning: --skip-doctor: SPF, DKIM and DMARC were not checked before this send.", err=True)
        return
    from ..doctor import PRESEND_TIMEOUT, Severity, check_dns

    report = check_dns(settings, PRESEND_TIMEOUT)
    for finding in report.findings:
        if finding.severity is not Severity.INFO:
            click.echo(_format(finding), err=True)
    if report.errors:
        raise DoctorError(f"the DNS checks found {_counts(report)}: nothing was sent. Fix the records above "
                          "(`digest doctor` shows them all), or pass --skip-doctor to send anyway")


def _format(finding: Finding) -> str:
    line = f"{finding.severity.value:<8} {finding.check.upper():<6} {finding.subject}: {finding.problem}"
    if finding.fix:
        line += f"\n{'':<15} fix: {finding.fix}"
    return line


def _counts(report: Report) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
