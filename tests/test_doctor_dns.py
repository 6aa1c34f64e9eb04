"""The doctor's DNS checks against a real DNS server on loopback: a good sending domain
gives no error or warning, and each broken zone gives exactly the finding for what is
broken in it, at the severity issue 15 lists."""
from __future__ import annotations

import time

import pytest

from digest.doctor import Severity, check_dns, diagnose
from digest.errors import ConfigError

from .conftest import settings_with
from .deliverability import add_sending_domain, dkim_keys, dns_zones, doctor_environ  # noqa: F401 (fixtures)
from .dns_server import SilentServer
from .smtp_sink import free_port

PROBLEMS = (Severity.ERROR, Severity.WARNING)


def replace(zones, name, rtype="TXT", *values):
    zones.remove(name, rtype)
    if values:
        zones.txt(name, *values)


def spf(record):
    return lambda zones, domain: replace(zones, domain, "TXT", record.format(domain=domain))


def many_includes(zones, domain):
    for n in range(11):
        zones.txt(f"l{n}.{domain}", "v=spf1 -all")
    replace(zones, domain, "TXT", " ".join(["v=spf1", *(f"include:l{n}.{domain}" for n in range(11)),
                                              f"include:_spf.{domain}", "-all"]))


def other_key(zones, domain, keys):
    replace(zones, f"sel._domainkey.{domain}", "TXT", keys["other-rsa"][1].dns_record())


BROKEN = {
    # name: (spoil the zone, expected code, its severity)
    "spf-missing": (lambda z, d: replace(z, d), "spf-missing", Severity.ERROR),
    "spf-bad-term": (spf("v=spf1 ip4:300.1.1.1 include:_spf.{domain} -all"), "spf-syntax", Severity.ERROR),
    "spf-two-records": (lambda z, d: z.txt(d, "v=spf1 -all"), "spf-syntax", Severity.ERROR),
    "spf-include-without-spf": (spf("v=spf1 include:gone.{domain} include:_spf.{domain} -all"), "spf-syntax", Severity.ERROR),
    "spf-eleven-lookups": (many_includes, "spf-too-many-lookups", Severity.ERROR),
    "spf-plus-all": (spf("v=spf1 include:_spf.{domain} +all"), "spf-plus-all", Severity.ERROR),
    "spf-softfail": (spf("v=spf1 include:_spf.{domain} ~all"), "spf-softfail-all", Severity.WARNING),
    "spf-neutral": (spf("v=spf1 include:_spf.{domain} ?all"), "spf-neutral-all", Severity.WARNING),
    "spf-no-all": (spf("v=spf1 include:_spf.{domain}"), "spf-neutral-all", Severity.WARNING),
    "spf-host-elsewhere": (spf("v=spf1 ip4:198.51.100.0/24 a:mx.{domain} -all"), "spf-host-not-listed", Severity.WARNING),
    "dkim-missing": (lambda z, d: replace(z, f"sel._domainkey.{d}"), "dkim-missing", Severity.ERROR),
    "dkim-revoked": (lambda z, d: replace(z, f"sel._domainkey.{d}", "TXT", "v=DKIM1; k=rsa; p="), "dkim-invalid", Severity.ERROR),
    "dkim-other-key": (other_key, "dkim-mismatch", Severity.ERROR),
    "dmarc-missing": (lambda z, d: replace(z, f"_dmarc.{d}"), "dmarc-missing", Severity.ERROR),
    "dmarc-bad-policy": (lambda z, d: replace(z, f"_dmarc.{d}", "TXT", "v=DMARC1; p=maybe"), "dmarc-invalid", Severity.ERROR),
    "dmarc-none": (lambda z, d: replace(z, f"_dmarc.{d}", "TXT", f"v=DMARC1; p=none; rua=mailto:d@{d}"),
                   "dmarc-policy-none", Severity.WARNING),
    "dmarc-no-rua": (lambda z, d: replace(z, f"_dmarc.{d}", "TXT", "v=DMARC1; p=quarantine"), "dmarc-no-rua", Severity.WARNING),
    "bimi-missing": (lambda z, d: replace(z, f"default._bimi.{d}"), "bimi-missing", Severity.WARNING),
    "mx-missing": (lambda z, d: z.remove(d, "MX"), "mx-missing", Severity.WARNING),
    "mx-null": (lambda z, d: (z.remove(d, "MX"), z.mx(d, ".", 0)), "mx-null", Severity.WARNING),
}


@pytest.fixture
def zone_for(dns_zones, dkim_keys, tmp_path):
    """``make(name, spoil=None, **overrides)`` -> settings sending as news@<name>.test, whose zone is
    good and then spoiled."""
    zones, server = dns_zones

    def make(name, spoil=None, key="rsa", **overrides):
        domain = f"{name}.test"
        path, dkim_key = dkim_keys[key]
        add_sending_domain(zones, domain, dkim_key)
        if spoil is not None:
            spoil(zones, domain, dkim_keys) if spoil is other_key else spoil(zones, domain)
        return settings_with(tmp_path, **doctor_environ(domain, server.nameserver, path, **overrides))

    return make


@pytest.mark.parametrize("key", ["rsa", "ed25519"])
def test_good_domain_has_no_error_or_warning(zone_for, key):
    report = diagnose(zone_for(f"good-{key}", key=key), connect=False)
    assert report.codes(*PROBLEMS) == set()
    assert {"spf-ok", "spf-host-listed", "dkim-ok", "dmarc-ok", "bimi-ok", "mx-ok"} <= report.codes(Severity.INFO)
    assert "(2 of 10 DNS lookups)" in next(f.problem for f in report.findings if f.code == "spf-ok")


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_zone_gives_exactly_its_finding(zone_for, name):
    spoil, code, severity = BROKEN[name]
    report = diagnose(zone_for(name, spoil), connect=False)
    assert report.codes(*PROBLEMS) == {code}
    finding = next(f for f in report.findings if f.code == code)
    assert finding.severity is severity
    assert finding.fix, "every problem names the record or setting that fixes it"


def test_missing_records_are_answered_with_the_record_to_publish(zone_for, dkim_keys):
    report = diagnose(zone_for("publish", lambda z, d: [replace(z, d), replace(z, f"sel._domainkey.{d}")]), connect=False)
    fixes = {f.code: f.fix for f in report.findings}
    assert fixes["spf-missing"] == 'add TXT publish.test "v=spf1 a:smtp.publish.test -all"'
    assert fixes["dkim-missing"] == f'publish TXT sel._domainkey.publish.test "{dkim_keys["rsa"][1].dns_record()}"'


def test_too_many_lookups_counts_nested_includes(zone_for):
    report = check_dns(zone_for("lookups", many_includes))
    finding = next(f for f in report.findings if f.code == "spf-too-many-lookups")
    assert finding.problem.startswith("SPF needs 13 DNS lookups")  # twelve includes, and the a: inside _spf


def test_the_check_before_a_send_asks_only_spf_dkim_and_dmarc(zone_for):
    report = check_dns(zone_for("presend", lambda z, d: (replace(z, f"default._bimi.{d}"), z.remove(d, "MX"))))
    assert report.codes(*PROBLEMS) == set()
    assert {f.check for f in report.findings} == {"spf", "dkim", "dmarc"}


def test_a_subdomain_from_is_covered_by_the_organisational_domains_dmarc(zone_for, dns_zones, dkim_keys):
    zones, _ = dns_zones
    settings = zone_for("org", newsletter_from_email="news@letters.org.test", dkim_domain="org.test")
    zones.txt("letters.org.test", "v=spf1 include:_spf.org.test -all")
    zones.mx("letters.org.test", "mx.org.test")
    report = diagnose(settings, connect=False)
    assert report.codes(*PROBLEMS) == set()
    assert "_dmarc.org.test" in {f.subject for f in report.findings if f.code == "dmarc-ok"}


def test_signing_for_an_unrelated_domain_fails_dmarc_alignment(zone_for, dns_zones, dkim_keys):
    zones, _ = dns_zones
    add_sending_domain(zones, "signer.test", dkim_keys["rsa"][1])
    report = check_dns(zone_for("unaligned", dkim_domain="signer.test", doctor_return_path_domain="signer.test"))
    assert report.codes(*PROBLEMS) == {"dmarc-unaligned"}
    assert report.errors[0].code == "dmarc-unaligned"  # p=reject: every message would be refused


def test_unaligned_under_p_none_is_a_warning(zone_for, dns_zones, dkim_keys):
    zones, _ = dns_zones
    add_sending_domain(zones, "signer2.test", dkim_keys["rsa"][1])
    none = lambda z, d: replace(z, f"_dmarc.{d}", "TXT", f"v=DMARC1; p=none; rua=mailto:d@{d}")
    report = check_dns(zone_for("unaligned-none", none, dkim_domain="signer2.test", doctor_return_path_domain="signer2.test"))
    assert {f.code: f.severity for f in report.findings if f.severity in PROBLEMS} == {
        "dmarc-policy-none": Severity.WARNING, "dmarc-unaligned": Severity.WARNING}


def provider_zone(zones, domain):
    zones.txt("sendgrid.net", "v=spf1 ip4:167.89.0.0/17 -all")
    replace(zones, domain, "TXT", f"v=spf1 include:sendgrid.net -all")
    zones.txt(f"s1._domainkey.{domain}", "v=DKIM1; k=rsa; p=" + "QUJD" * 60)


def test_a_provider_needs_its_include_and_its_selector_but_not_our_key(zone_for):
    settings = zone_for("provider", provider_zone, delivery_backend="sendgrid", dkim_selector="", dkim_private_key_path="")
    report = check_dns(settings)
    assert report.codes(*PROBLEMS) == set()
    assert any(f.code == "dkim-ok" and f.subject == "s1._domainkey.provider.test" for f in report.findings)


def test_a_provider_missing_from_spf_and_dkim_is_reported(zone_for):
    settings = zone_for("provider-missing", delivery_backend="sendgrid", dkim_selector="", dkim_private_key_path="")
    report = check_dns(settings)
    assert report.codes(*PROBLEMS) == {"spf-host-not-listed", "dkim-not-configured"}
    assert "include:sendgrid.net" in next(f.fix for f in report.findings if f.code == "spf-host-not-listed")


def test_dns_that_does_not_answer_is_a_warning_within_the_deadline(zone_for):
    silent = SilentServer()
    try:
        settings = zone_for("silent", doctor_nameservers=silent.nameserver)
        started = time.monotonic()
        report = check_dns(settings, timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert report.codes() == {"dns-unreachable"} and not report.errors
    assert len(report.warnings) == 3  # SPF, DKIM and DMARC could not be checked
    assert elapsed < 2.0  # one deadline for all three, not a second each


@pytest.mark.parametrize("entry", ["dns.example.org:53", "127.0.0.1:99999", "127.0.0.1:x", "[::1]5353"])
def test_a_nameserver_that_is_not_ip_and_port_is_a_config_error(zone_for, entry):
    with pytest.raises(ConfigError, match=r"^\[doctor\] nameservers: "):
        check_dns(zone_for("config", doctor_nameservers=entry))


def test_nameservers_from_the_environment_are_comma_separated(zone_for, dns_zones):
    _, server = dns_zones
    spare = f"[::1]:{free_port()}"
    settings = zone_for("two-servers", doctor_nameservers=f"{server.nameserver}, {spare}")
    assert settings.table("doctor")["nameservers"] == [server.nameserver, spare]
    report = check_dns(settings)
    assert report.codes(*PROBLEMS) == set()
