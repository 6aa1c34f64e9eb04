"""``/preferences?t=…``: the member's own page, linked from every email's footer.

The token names the address (sealed, so the URL does not); the page shows the status
and lets the member change name and language, unsubscribe, or resubscribe. A resubscribe
after leaving needs a fresh confirmation, as a new sign-up does. GET only shows; every
change is a CSRF-checked POST answered with a redirect back to the page (303), which
then speaks the member's (possibly new) language.
"""
from __future__ import annotations

import logging

from ..errors import DigestError
from ..store.ledger import SendLedger, StoredMember
from ..store.members import PENDING, SUBSCRIBED
from .http import Request, Response
from .member_tokens import CONFIRM, page_url
from .signup import name_error
from .site import Site

DONE = ("saved", "unsubscribed", "resubscribe")
log = logging.getLogger(__name__)


def preferences_page(site: Site, request: Request) -> Response:
    form = request.form if request.method == "POST" else {}
    token = form.get("t") or request.query.get("t", "")
    email = site.sealer.preferences_email(token)
    if email is None:
        return site.message(request, site.language_for(request), "link_invalid_title", "link_invalid_text",
                            "400 Bad Request")
    with site.ledger() as ledger:
        if ledger.is_forgotten(email):
            return site.message(request, site.language_for(request), "forgotten_title", "forgotten_text", "410 Gone")
        member = ledger.member(email)
        language = site.language_for(request, member.language if member else "")
        if request.method != "POST":
            done = request.query.get("done", "")
            return _page(site, request, language, token, email, member, notice=f"{done}_notice" if done in DONE else "")
        if not site.csrf_ok(request, form):
            return _page(site, request, language, token, email, member, status="403 Forbidden", notice="form_expired")
        action = form.get("action", "")
        if action == "save" and member is not None:
            name = form.get("name", "").strip()
            chosen = site.match(form.get("language", "")) or language
            error = name_error(name)
            if error:
                return _page(site, request, language, token, email, member, status="400 Bad Request", error=error)
            ledger.update_profile(email, name=name, language=chosen)
            return _back(site, email, "saved")
        if action == "unsubscribe":
            ledger.suppress(email, "unsubscribe", "web")
            return _back(site, email, "unsubscribed")
        if action == "resubscribe":
            if member is None or member.status != SUBSCRIBED:
                if not _resubscribe(site, ledger, member.address if member else email, member, language):
                    return site.message(request, language, "unavailable_title", "unavailable_text",
                                        "503 Service Unavailable", headers=[("Retry-After", "300")])
            return _back(site, email, "resubscribe")
    return _page(site, request, language, token, email, member, status="400 Bad Request")


def _resubscribe(site: Site, ledger: SendLedger, address: str, member: StoredMember | None, language: str) -> bool:
    """A fresh confirmation, as for a new sign-up (at most one per address per interval);
    False if the email could not be sent."""
    name = member.name if member else ""
    confirmation = ledger.request_confirmation(address, name, language, interval=site.interval, lifetime=site.hours * 3600)
    if confirmation is None:
        return True
    url = page_url(site.settings, "confirm", site.sealer.seal(CONFIRM, bytes.fromhex(confirmation.id)))
    try:
        site.mailer.send(address, name, language, url)
    except DigestError as exc:
        ledger.cancel_confirmation(confirmation.id)
        log.error("confirmation email not sent: %s", exc)
        return False
    return True


def _page(site: Site, request: Request, language: str, token: str, email: str, member: StoredMember | None, *,
          status: str = "200 OK", notice: str = "", error: str = "") -> Response:
    state = member.status if member else "none"
    return site.render(request, "preferences.html", language, "preferences_title", status, token=token,
                       email=member.address if member else email, member=member, state=f"status_{state}",
                       can_unsubscribe=member is None or member.status in (SUBSCRIBED, PENDING),
                       can_resubscribe=member is not None and member.status != SUBSCRIBED,
                       notice=notice, error=error)


def _back(site: Site, email: str, done: str) -> Response:
    """See Other: the browser GETs the page again, so a reload never repeats the change."""
    return Response("303 See Other", "", [("Location", site.preferences_path(email, done))])
