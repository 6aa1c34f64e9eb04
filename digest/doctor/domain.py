"""What the From domain publishes beyond authentication: MX, so replies and bounce
notices to the From address arrive, and BIMI, the optional logo record that Gmail,
Yahoo and Apple Mail show beside mail that passes an enforced DMARC policy."""
from __future__ import annotations

from .dkim_record import parse_tags
from .dmarc import organisational_domain
from .findings import Finding, info, warning
from .resolver import DnsClient


def check_mx(dns: DnsClient, domain: str) -> list[Finding]:
    records = dns.mx(domain)
    if not records:
        return [warning("mx-missing", domain, f"the From domain has no MX record: replies to {domain} addresses bounce",
                        f"add MX {domain} 10 <your mail server>, or set [newsletter] reply_to to an address that receives mail")]
    if all(host in ("", ".") for _, host in records):
        return [warning("mx-null", domain, "the From domain publishes a null MX: it accepts no mail, so replies bounce",
                        f"replace the null MX of {domain} by your mail server, or set [newsletter] reply_to elsewhere")]
    return [info("mx-ok", domain, "MX " + ", ".join(f"{pref} {host}" for pref, host in records))]


def check_bimi(dns: DnsClient, domain: str) -> list[Finding]:
    for where in dict.fromkeys((domain, organisational_domain(domain))):
        name = f"default._bimi.{where}"
        for text in dns.txt(name):
            tags = parse_tags(text)
            if tags.get("v") == "BIMI1":
                logo = tags.get("l") or "(no logo: l= is empty, which declines BIMI)"
                return [info("bimi-ok", name, f"BIMI logo {logo}" + (f", certificate {tags['a']}" if tags.get("a") else ""))]
    return [warning("bimi-missing", f"default._bimi.{domain}",
                    "no BIMI record (optional): inboxes show no logo beside your mail",
                    f'add TXT default._bimi.{domain} "v=BIMI1; l=https://.../logo.svg" (an SVG Tiny PS logo; '
                    "Gmail also wants a=, a mark certificate, and DMARC at quarantine or reject)")]
