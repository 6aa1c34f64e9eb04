"""DMARC (RFC 7489): the From domain's policy exists and parses, enforces something,
asks for aggregate reports, and is met: SPF (through the return-path domain) or DKIM
(through the signing domain) aligned with the From domain. Gmail, Yahoo and Outlook
require a published DMARC policy from bulk senders."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .dkim_record import parse_tags
from .findings import Finding, error, info, warning
from .resolver import DnsClient
from .sender import Sender

POLICIES = ("none", "quarantine", "reject")


@lru_cache(maxsize=1)
def _suffixes():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def organisational_domain(domain: str) -> str:
    """The registered domain (``news.example.co.uk`` -> ``example.co.uk``), from the Public Suffix List."""
    return _suffixes().privatesuffix(domain.lower().rstrip(".")) or domain


def aligned(domain: str, from_domain: str, mode: str) -> bool:
    """Strict (``s``): the same name; relaxed (``r``): the same organisational domain."""
    if mode == "s":
        return domain == from_domain
    return organisational_domain(domain) == organisational_domain(from_domain)


@dataclass(frozen=True)
class DmarcPolicy:
    location: str     # where it was found: _dmarc.<from domain> or _dmarc.<organisational domain>
    text: str
    tags: dict
    inherited: bool   # found at the organisational domain, so sp= applies

    @property
    def policy(self) -> str:
        return self.tags.get("sp", self.tags["p"]) if self.inherited else self.tags["p"]


def find_policy(dns: DnsClient, from_domain: str) -> DmarcPolicy | None | str:
    """The policy for ``from_domain`` (RFC 7489 section 6.6.3), None when there is none,
    or a string saying why the record found is invalid."""
    org = organisational_domain(from_domain)
    for domain in dict.fromkeys((from_domain, org)):
        location = f"_dmarc.{domain}"
        found = [text for text in dns.txt(location) if text.replace(" ", "").startswith("v=DMARC1")]
        if len(found) > 1:
            return f"{location} has {len(found)} DMARC records; receivers then ignore them all"
        if found:
            tags = parse_tags(found[0])
            problem = _invalid(tags)
            return f"{location}: {problem}" if problem else DmarcPolicy(location, found[0], tags, domain != from_domain)
    return None


def _invalid(tags: dict) -> str:
    if tags.get("p", "").lower() not in POLICIES:
        return f"p={tags.get('p', '')!s} is not one of {', '.join(POLICIES)}" if "p" in tags else "no p= policy tag"
    tags["p"] = tags["p"].lower()
    if "sp" in tags and tags["sp"].lower() not in POLICIES:
        return f"sp={tags['sp']} is not one of {', '.join(POLICIES)}"
    for tag in ("adkim", "aspf"):
        if tags.setdefault(tag, "r").lower() not in ("r", "s"):
            return f"{tag}={tags[tag]} is not r or s"
        tags[tag] = tags[tag].lower()
    if "sp" in tags:
        tags["sp"] = tags["sp"].lower()
    return ""


def check_dmarc(dns: DnsClient, sender: Sender) -> list[Finding]:
    domain = sender.from_domain
    suggested = f'add TXT _dmarc.{domain} "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
    found = find_policy(dns, domain)
    if found is None:
        return [error("dmarc-missing", f"_dmarc.{domain}",
                      "no DMARC policy for the From domain: Gmail, Yahoo and Outlook reject or spam-folder bulk mail without one",
                      f"{suggested}, then move to p=quarantine once the reports show your mail passing")]
    if isinstance(found, str):
        return [error("dmarc-invalid", f"_dmarc.{domain}", f"the DMARC record is invalid ({found})", suggested)]
    findings: list[Finding] = []
    policy_tag = "sp" if found.inherited and "sp" in found.tags else "p"
    if found.policy == "none":
        findings.append(warning("dmarc-policy-none", found.location,
                                f"DMARC {policy_tag}=none only monitors: forged mail from {domain} is still delivered",
                                f"set {policy_tag}=quarantine (then reject) in the record at {found.location} once reports show your mail passing"))
    if not found.tags.get("rua"):
        findings.append(warning("dmarc-no-rua", found.location,
                                "DMARC asks for no aggregate reports (rua=), so failures go unseen",
                                f"add rua=mailto:dmarc-reports@{organisational_domain(domain)} to the record at {found.location}"))
    findings += _alignment(sender, found)
    if not findings:
        findings.append(info("dmarc-ok", found.location, f"{found.text}"))
    return findings


def _alignment(sender: Sender, found: DmarcPolicy) -> list[Finding]:
    """DMARC passes when SPF or DKIM passes for a domain aligned with From; say if neither can."""
    domain = sender.from_domain
    spf = aligned(sender.return_path_domain, domain, found.tags["aspf"])
    dkim = bool(sender.dkim_selector or sender.signs or (sender.provider and sender.provider.selectors)) and \
        aligned(sender.dkim_domain, domain, found.tags["adkim"])
    if spf or dkim:
        return []
    problem = (f"neither the return path ({sender.return_path_domain}, aspf={found.tags['aspf']}) nor DKIM "
               f"(d={sender.dkim_domain}, adkim={found.tags['adkim']}) aligns with the From domain {domain}: DMARC fails")
    fix = f"sign with [dkim] domain = {domain} (or a subdomain of it), or send with a return path under {domain}"
    # With p=none the failure is only reported; with quarantine or reject every message is lost.
    make = error if found.policy != "none" else warning
    return [make("dmarc-unaligned", found.location, problem, fix)]
