"""Each provider's documented request format, as checks a fake server applies, and the
documented success replies. Sources: Postmark "Send batch emails" (/email/batch, 500
messages, 50 MB, X-Postmark-Server-Token); Mailgun "Batch sending" (/v3/{domain}/messages,
basic auth api:KEY, 1,000 recipients, recipient-variables); SendGrid v3 Mail Send and its
errors page (1,000 personalizations, Bearer, 202 + X-Message-Id); Resend batch emails,
idempotency keys and batch validation modes (100 emails, key <= 256 chars); Amazon SES v2
SendEmail (POST /v2/email/outbound-emails, Content.Raw.Data, SigV4 for service "ses")."""
from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import uuid
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
from typing import Callable

from .fake_provider import Reply, Request

KEY = "k3y-that-must-never-be-printed"
DOMAIN = "iclei-japan.example.org"
AWS_KEY_ID = "AKIDEXAMPLE"
AWS_SECRET = "aws-secret-that-must-never-be-printed"
REGION = "eu-west-1"


def _json_request(request: Request, path: str) -> list[str]:
    problems = []
    if request.method != "POST" or request.path != path:
        problems.append(f"expected POST {path}, got {request.method} {request.path}")
    if not request.header("Content-Type").startswith("application/json"):
        problems.append("body must be application/json")
    return problems


def _bearer(request: Request) -> list[str]:
    return [] if request.header("Authorization") == f"Bearer {KEY}" else ["missing or wrong Bearer token"]


# Postmark -------------------------------------------------------------------------------

POSTMARK_FIELDS = {"From", "To", "Cc", "Bcc", "Subject", "Tag", "HtmlBody", "TextBody", "ReplyTo", "Headers",
                   "TrackOpens", "TrackLinks", "Metadata", "Attachments", "MessageStream"}


def check_postmark(request: Request) -> list[str]:
    problems = _json_request(request, "/email/batch")
    if request.header("X-Postmark-Server-Token") != KEY:
        problems.append("missing or wrong X-Postmark-Server-Token")
    if request.header("Accept") != "application/json":
        problems.append("Accept must be application/json")
    if len(request.body) > 50 * 1000 * 1000:
        problems.append("payload over 50 MB")
    messages = request.json()
    if not isinstance(messages, list) or not 1 <= len(messages) <= 500:
        return problems + ["body must be a JSON array of 1 to 500 messages"]
    for n, message in enumerate(messages):
        unknown = set(message) - POSTMARK_FIELDS
        if unknown:
            problems.append(f"message {n}: unknown fields {sorted(unknown)}")
        if not all(message.get(k) for k in ("From", "To", "Subject")) or not (message.get("HtmlBody") or message.get("TextBody")):
            problems.append(f"message {n}: From, To, Subject and a body are required")
        if len(getaddresses([message.get("To", "")])) > 50:
            problems.append(f"message {n}: more than 50 recipients")
        headers = message.get("Headers", [])
        if not all(isinstance(h, dict) and set(h) == {"Name", "Value"} for h in headers):
            problems.append(f"message {n}: Headers must be [{{Name, Value}}]")
    return problems


def accept_postmark(request: Request) -> Reply:
    return Reply(200, [{"To": m["To"], "SubmittedAt": "2026-11-29T10:00:00Z", "MessageID": str(uuid.uuid4()),
                        "ErrorCode": 0, "Message": "OK"} for m in request.json()])


# Mailgun --------------------------------------------------------------------------------

def check_mailgun(request: Request) -> list[str]:
    problems = []
    if request.method != "POST" or request.path != f"/v3/{DOMAIN}/messages":
        problems.append(f"expected POST /v3/{DOMAIN}/messages, got {request.method} {request.path}")
    if request.header("Authorization") != "Basic " + base64.b64encode(f"api:{KEY}".encode()).decode():
        problems.append("missing or wrong basic auth api:KEY")
    form = request.form()
    names = [name for name, _ in form]
    allowed = {"from", "to", "cc", "bcc", "subject", "text", "html", "recipient-variables"}
    unknown = [n for n in names if n not in allowed and not n.startswith(("h:", "v:", "o:"))]
    if unknown:
        problems.append(f"unknown fields {unknown}")
    fields = dict(form)
    recipients = [parseaddr(value)[1] for name, value in form if name == "to"]
    if names.count("from") != 1 or "subject" not in fields or not ("text" in fields or "html" in fields):
        problems.append("from, subject and text or html are required")
    if not 1 <= len(recipients) <= 1000:
        problems.append("1 to 1,000 recipients a call")
    if len(recipients) > 1:
        variables = json.loads(fields.get("recipient-variables", "null"))
        if not isinstance(variables, dict) or set(variables) != set(recipients):
            problems.append("batch sending needs recipient-variables for every recipient")
    return problems


def accept_mailgun(request: Request) -> Reply:
    return Reply(200, {"id": f"<20261129.{uuid.uuid4().hex}@{DOMAIN}>", "message": "Queued. Thank you."})


def mailgun_deliveries(request: Request) -> dict[str, dict[str, str]]:
    """What Mailgun makes of a batch: per recipient, each field with %recipient.KEY% filled."""
    form = request.form()
    variables = json.loads(dict(form).get("recipient-variables", "{}"))
    shared = [(name, value) for name, value in form if name != "to"]
    out = {}
    for address in (parseaddr(value)[1] for name, value in form if name == "to"):
        values = variables.get(address, {})
        fill = lambda text: re.sub(r"%recipient\.([\w:.-]+)%", lambda m: str(values.get(m.group(1), m.group(0))), text)
        out[address] = {name: fill(value) for name, value in shared}
    return out


# SendGrid -------------------------------------------------------------------------------

SENDGRID_RESERVED = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
                     "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}


def check_sendgrid(request: Request) -> list[str]:
    problems = _json_request(request, "/v3/mail/send") + _bearer(request)
    data = request.json()
    personalizations = data.get("personalizations")
    if not isinstance(personalizations, list) or not 1 <= len(personalizations) <= 1000:
        return problems + ["1 to 1,000 personalizations a request"]
    addresses = [to["email"] for p in personalizations for to in p.get("to", [])]
    if len(addresses) > 1000 or len(set(a.lower() for a in addresses)) != len(addresses):
        problems.append("at most 1,000 recipients, each address once")
    for n, p in enumerate(personalizations):
        if not p.get("to"):
            problems.append(f"personalizations.{n}: to is required")
        substitutions = p.get("substitutions", {})
        if any(not isinstance(v, str) for v in substitutions.values()):
            problems.append(f"personalizations.{n}: substitution values must be strings")
        if len(json.dumps(substitutions).encode()) > 10000:
            problems.append(f"personalizations.{n}: substitutions over 10,000 bytes")
        for headers in (p.get("headers", {}), data.get("headers", {})):
            if SENDGRID_RESERVED & {h.lower() for h in headers}:
                problems.append(f"reserved headers {sorted(SENDGRID_RESERVED & {h.lower() for h in headers})}")
    if not data.get("from", {}).get("email") or not (data.get("subject") or all(p.get("subject") for p in personalizations)):
        problems.append("from.email and subject are required")
    content = data.get("content", [])
    types = [c["type"] for c in content]
    if not content or len(set(types)) != len(types) or ("text/plain" in types and types[0] != "text/plain"):
        problems.append("content must be non-empty, each type once, text/plain first")
    return problems


def accept_sendgrid(request: Request) -> Reply:
    return Reply(202, b"", {"X-Message-Id": uuid.uuid4().hex[:22]})


def sendgrid_deliveries(request: Request) -> dict[str, dict[str, object]]:
    """What SendGrid makes of a request: per recipient, content with substitutions made."""
    data = request.json()
    out = {}
    for p in data["personalizations"]:
        def fill(text: str, subs=p.get("substitutions", {})) -> str:
            return re.sub("|".join(map(re.escape, subs)), lambda m: subs[m.group(0)], text) if subs else text
        content = {c["type"]: fill(c["value"]) for c in data["content"]}
        out[p["to"][0]["email"]] = {"content": content, "headers": {**data.get("headers", {}), **p.get("headers", {})}}
    return out


# Resend ---------------------------------------------------------------------------------

RESEND_FIELDS = {"from", "to", "subject", "bcc", "cc", "reply_to", "html", "text", "headers", "attachments", "tags", "scheduled_at"}


def check_resend(request: Request) -> list[str]:
    problems = _json_request(request, "/emails/batch") + _bearer(request)
    key = request.header("Idempotency-Key")
    if key and len(key) > 256:
        problems.append("Idempotency-Key longer than 256 characters")
    emails = request.json()
    if not isinstance(emails, list) or not 1 <= len(emails) <= 100:
        return problems + ["body must be a JSON array of 1 to 100 emails"]
    for n, message in enumerate(emails):
        unknown = set(message) - RESEND_FIELDS
        if unknown:
            problems.append(f"email {n}: unknown fields {sorted(unknown)}")
        if not all(message.get(k) for k in ("from", "to", "subject")) or not (message.get("html") or message.get("text")):
            problems.append(f"email {n}: from, to, subject and html or text are required")
        problems += [f"email {n}: {problem}" for problem in resend_address_problems(message)]
        if not isinstance(message.get("headers", {}), dict):
            problems.append(f"email {n}: headers must be an object")
    return problems


def resend_address_problems(message: dict) -> list[str]:
    """Resend's API reference: ``from`` is "sender@domain.com" or "Your Name <sender@domain.com>",
    ``to`` a string or up to 50 strings of the same form. Resend refuses a quoted display
    name in any of them (django-anymail works around it) and an RFC 2047 word in ``from``."""
    problems = []
    to = message.get("to", [])
    to = [to] if isinstance(to, str) else to
    if len(to) > 50:
        problems.append("to holds more than 50 addresses")
    fields = [("from", message.get("from", ""))] + [("to", a) for a in to] + [("reply_to", a) for a in message.get("reply_to", [])]
    for name, value in fields:
        parsed = getaddresses([value])
        if len(parsed) != 1 or "@" not in parsed[0][1] or not re.fullmatch(r"(?:[^<>\"]+ )?<[^<>\s]+@[^<>\s]+>|[^<>\s\"]+@[^<>\s]+", value):
            problems.append(f"{name} {value!r} is not an address Resend accepts")
        if '"' in value:
            problems.append(f"{name} {value!r}: a quoted display name is refused")
        if name == "from" and "=?" in value:
            problems.append(f"from {value!r}: an RFC 2047 encoded display name is refused")
    return problems


def accept_resend(request: Request) -> Reply:
    return Reply(200, {"data": [{"id": str(uuid.uuid4())} for _ in request.json()]})


# Amazon SES v2 --------------------------------------------------------------------------

SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[\w-]+)/ses/aws4_request, "
                   r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$")


def check_ses(request: Request) -> list[str]:
    problems = _json_request(request, "/v2/email/outbound-emails")
    match = SIGV4.match(request.header("Authorization"))
    if not match or match["key"] != AWS_KEY_ID or match["region"] != REGION:
        return problems + [f"Authorization is not SigV4 for ses in {REGION}: {request.header('Authorization')[:80]!r}"]
    if not {"host", "x-amz-date"} <= set(match["signed"].split(";")):
        problems.append("host and x-amz-date must be signed")
    if ses_signature(request, match["signed"]) != match["signature"]:
        problems.append("SigV4 signature does not match the request")
    data = request.json()
    raw = base64.b64decode(data["Content"]["Raw"]["Data"], validate=True)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    if not (parsed["From"] and parsed["To"] and parsed["Subject"]):
        problems.append("Raw.Data must be a whole message with From, To and Subject")
    return problems


def ses_signature(request: Request, signed: str) -> str:
    """Sign the received request again with the known secret (botocore's own SigV4)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {name: request.header(name) for name in signed.split(";")}
    again = AWSRequest(method=request.method, url=f"http://{headers['host']}{request.path}", data=request.body, headers=headers)
    again.context["timestamp"] = headers["x-amz-date"]
    auth = SigV4Auth(Credentials(AWS_KEY_ID, AWS_SECRET), "ses", REGION)
    return auth.signature(auth.string_to_sign(again, auth.canonical_request(again)), again)


def accept_ses(request: Request) -> Reply:
    return Reply(200, {"MessageId": f"0102{uuid.uuid4().hex}-000000"})


@dataclass(frozen=True)
class Provider:
    name: str
    check: Callable[[Request], list[str]]
    accept: Callable[[Request], Reply]
    environ: dict[str, str] = field(default_factory=dict)
    settings: dict[str, object] = field(default_factory=dict)


PROVIDERS = {
    "postmark": Provider("postmark", check_postmark, accept_postmark, {"POSTMARK_SERVER_TOKEN": KEY}),
    "mailgun": Provider("mailgun", check_mailgun, accept_mailgun, {"MAILGUN_API_KEY": KEY}, {"domain": DOMAIN}),
    "sendgrid": Provider("sendgrid", check_sendgrid, accept_sendgrid, {"SENDGRID_API_KEY": KEY}),
    "resend": Provider("resend", check_resend, accept_resend, {"RESEND_API_KEY": KEY}),
    "ses": Provider("ses", check_ses, accept_ses, {"AWS_ACCESS_KEY_ID": AWS_KEY_ID, "AWS_SECRET_ACCESS_KEY": AWS_SECRET},
                    {"region": REGION}),
}
