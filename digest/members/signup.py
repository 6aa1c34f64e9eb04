"""``/subscribe`` and ``/confirm``: double opt-in that neither bots nor link scanners can drive.

A sign-up always answers "check your inbox", whether the address is new, pending,
subscribed, unsubscribed or forgotten, so the form tells nobody who is on the list.
Before anything is stored the form must carry this browser's CSRF token (a POST
without one, such as the archive's static snippet, only shows the form filled in),
the client must be under the per-IP limit, and the honeypot field must be empty.
The store grants one confirmation email per address per interval. The link in it
opens a page with a button: only the button's POST confirms.
"""
from __future__ import annotations

import logging
import re
import unicodedata

from ..addresses import normalise_address
from ..errors import DigestError, HeaderError
from ..store.ledger import ConfirmOutcome
from ..store.members import consent_network
from .http import Request, Response, client_key
from .member_tokens import CONFIRM, page_url
from .site import NAME_MAX, Site

HONEYPOT = "website"
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bq]\?", re.IGNORECASE)
log = logging.getLogger(__name__)


def subscribe_page(site: Site, request: Request) -> Response:
    if request.method == "POST":
        return _subscribe(site, request)
    language = site.language_for(request, request.query.get("lang", ""))
    return _form(site, request, language, {"email": "", "name": "", "language": language})


def _subscribe(site: Site, request: Request) -> Response:
    form = request.form
    language = site.language_for(request, form.get("language", ""))
    values = {"email": form.get("email", "").strip(), "name": form.get("name", "").strip(), "language": language}
    if not site.csrf_ok(request, form):
        if "csrf" not in form:  # a form from elsewhere (the archive's snippet): show ours, filled in
            return _form(site, request, language, values, notice="form_continue")
        return _form(site, request, language, values, notice="form_expired", status="403 Forbidden")
    wait = site.limiter.hit(client_key(request.client_ip))
    if wait:
        return site.message(request, language, "too_many_title", "too_many_text", "429 Too Many Requests",
                            headers=[("Retry-After", str(wait))], seconds=str(wait))
    if form.get(HONEYPOT):
        return _check_inbox(site, request, language, values["email"])
    error = name_error(values["name"])
    try:
        address = normalise_address(values["email"])
    except HeaderError:
        error = "invalid_email"
    if error:
        return _form(site, request, language, values, error=error, status="400 Bad Request")
    with site.ledger() as ledger:
        confirmation = ledger.request_confirmation(address, values["name"], language, interval=site.interval,
                                                   lifetime=site.hours * 3600)
    if confirmation is not None:
        url = page_url(site.settings, "confirm", site.sealer.seal(CONFIRM, bytes.fromhex(confirmation.id)))
        try:
            site.mailer.send(address, values["name"], language, url)
        except DigestError as exc:
            with site.ledger() as ledger:
                ledger.cancel_confirmation(confirmation.id)
            log.error("confirmation email not sent: %s", exc)
            return site.message(request, language, "unavailable_title", "unavailable_text", "503 Service Unavailable",
                                headers=[("Retry-After", "300")])
    return _check_inbox(site, request, language, address)


def name_error(name: str) -> str:
    """Why a name cannot be kept, as a message code ('' if it can): one line of plain
    text, not too long."""
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in name):
        return "name_one_line"
    if _ENCODED_WORD.search(name):  # mail readers may decode it, into anything (CR/LF, other headers)
        return "name_plain"
    if len(name) > NAME_MAX:
        return "name_too_long"
    return ""


def _form(site: Site, request: Request, language: str, values: dict[str, str], *, error: str = "", notice: str = "",
          status: str = "200 OK") -> Response:
    return site.render(request, "subscribe.html", language, "subscribe_title", status, values=values, error=error,
                       notice=notice, honeypot=HONEYPOT)


def _check_inbox(site: Site, request: Request, language: str, email: str) -> Response:
    return site.message(request, language, "check_inbox_title", "check_inbox_text", email=email, hours=f"{site.hours:g}")


def confirm_page(site: Site, request: Request) -> Response:
    form = request.form if request.method == "POST" else {}
    token = form.get("t") or request.query.get("t", "")
    payload = site.sealer.open(CONFIRM, token)
    with site.ledger() as ledger:
        confirmation = ledger.confirmation(payload.hex()) if payload is not None else None
        language = site.language_for(request, confirmation.language if confirmation else "")
        if confirmation is None:
            return _refused(site, request, language, ConfirmOutcome.UNKNOWN)
        refused = confirmation.state()
        if refused is not None:
            return _refused(site, request, language, refused)
        if request.method != "POST" or not site.csrf_ok(request, form):
            notice = "form_expired" if request.method == "POST" else ""
            return site.render(request, "confirm.html", language, "confirm_title",
                               "403 Forbidden" if notice else "200 OK", token=token, email=confirmation.email,
                               notice=notice)
        outcome, _ = ledger.use_confirmation(confirmation.id, consent_network(request.client_ip))
    if outcome is not ConfirmOutcome.CONFIRMED:
        return _refused(site, request, language, outcome)
    return site.message(request, language, "confirmed_title", "confirmed_text",
                        link=(site.preferences_path(confirmation.email), "manage_link"),
                        newsletter=site.settings.newsletter.name, email=confirmation.email)


def _refused(site: Site, request: Request, language: str, outcome: ConfirmOutcome) -> Response:
    """A link that cannot confirm: 400 if it was never ours, 410 if it expired or was used."""
    again = (site.paths.subscribe + f"?lang={language}", "signup_again")
    if outcome is ConfirmOutcome.EXPIRED:
        return site.message(request, language, "link_expired_title", "link_expired_text", "410 Gone", link=again,
                            hours=f"{site.hours:g}")
    if outcome is ConfirmOutcome.USED:
        return site.message(request, language, "link_used_title", "link_used_text", "410 Gone", link=again)
    return site.message(request, language, "link_invalid_title", "link_invalid_text", "400 Bad Request", link=again)
