"""The doctor: checks that mail from this newsletter can land in the inbox.

Since 2024 Gmail and Yahoo, and since 2025 Outlook.com, reject or spam-folder bulk
mail whose From domain lacks SPF or DKIM alignment and a DMARC policy; an editor
should learn that from ``digest doctor``, not from a bounce storm. Each check returns
findings that say what is wrong and the record or setting that fixes it::

    sender.py       how we send, read from settings (domains, backend, DKIM key)
    resolver.py     dnspython under one deadline; silence is DnsUnavailable, not a verdict
    spf.py          syntax, the 10-lookup limit, the all policy, our host or provider listed
    dkim_record.py  the selector's key record exists and matches our key
    dmarc.py        the policy, its reports, alignment with From
    domain.py       MX for replies, BIMI (optional)
    smtp.py         the SMTP server: answers, TLS with a valid certificate, AUTH only over TLS
    run.py          diagnose (everything) and check_dns (the gate before a send)
"""
from __future__ import annotations

from .findings import Finding, Report, Severity
from .run import PRESEND_TIMEOUT, check_dns, diagnose

__all__ = ["Finding", "Report", "Severity", "PRESEND_TIMEOUT", "check_dns", "diagnose"]
