"""Bounces and complaints exported from a mail provider, turned into suppressions.

Each provider names things its own way, so one small function per provider maps one
exported event to ``Outcome``s: hard bounces and complaints suppress at once; soft
bounces are counted per address and suppress at ``SOFT_BOUNCE_LIMIT`` in a row; a
delivery, open or click for the address ends the run. "In a row" is judged over the
events as imported (sorted by their timestamps, file order where they tie or lack one)
and continues across imports through the count kept in the ledger.

Files are JSON lines (one event per line, as webhooks post them; a line holding a JSON
array counts as several events, as SendGrid batches them) or, for Postmark, Mailgun and
SendGrid, CSV whose header row uses the same field names. A bad line is reported with
its line number and skipped; the other lines still count.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..addresses import normalise_address
from ..errors import ContentError, HeaderError
from ..store.ledger import SendLedger

SOFT_BOUNCE_LIMIT = 3

HARD, SOFT, COMPLAINT, UNSUBSCRIBE, SUCCESS = "hard", "soft", "complaint", "unsubscribe", "success"
REASONS = {HARD: "bounce", SOFT: "bounce", COMPLAINT: "complaint", UNSUBSCRIBE: "unsubscribe"}


@dataclass(frozen=True)
class Outcome:
    """What one event says about one address."""

    email: str
    kind: str  # HARD | SOFT | COMPLAINT | UNSUBSCRIBE | SUCCESS
    when: dt.datetime | None = None


@dataclass
class ImportReport:
    events: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {HARD: 0, SOFT: 0, COMPLAINT: 0, UNSUBSCRIBE: 0, SUCCESS: 0})
    suppressed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class BadEvent(ValueError):
    """An event that does not have the fields its provider documents."""


def postmark(event: dict[str, Any]) -> list[Outcome]:
    """Postmark bounce, spam-complaint and delivery webhooks (or /bounces API records)."""
    record_type = str(event.get("RecordType", "Bounce"))
    if record_type == "Delivery":
        return [Outcome(_address(event, "Recipient"), SUCCESS, _iso(event.get("DeliveredAt")))]
    if record_type in ("Open", "Click"):
        return [Outcome(_address(event, "Recipient"), SUCCESS, _iso(event.get("ReceivedAt")))]
    kind = {
        "HardBounce": HARD, "BadEmailAddress": HARD, "ManuallyDeactivated": HARD,
        "SoftBounce": SOFT, "Transient": SOFT, "DnsError": SOFT, "Blocked": SOFT,
        "SpamComplaint": COMPLAINT, "Unsubscribe": UNSUBSCRIBE,
    }.get(_required(event, "Type"))
    return [Outcome(_address(event, "Email"), kind, _iso(event.get("BouncedAt")))] if kind else []


def mailgun(event: dict[str, Any]) -> list[Outcome]:
    """Mailgun events (Events API items, or webhooks with their ``event-data``)."""
    event = event.get("event-data", event)
    name = _required(event, "event")
    if name == "failed":
        severity = event.get("severity", "")
        if severity not in ("permanent", "temporary"):
            raise BadEvent(f"failed event with severity {severity!r} (expected permanent or temporary)")
        kind = HARD if severity == "permanent" else SOFT
    else:
        kind = {"complained": COMPLAINT, "unsubscribed": UNSUBSCRIBE, "delivered": SUCCESS, "opened": SUCCESS, "clicked": SUCCESS}.get(name)
    return [Outcome(_address(event, "recipient"), kind, _epoch(event.get("timestamp")))] if kind else []


SENDGRID_DROP_REASONS = {"Bounced Address": HARD, "Invalid": HARD, "Spam Reporting Address": COMPLAINT, "Unsubscribed Address": UNSUBSCRIBE}


def sendgrid(event: dict[str, Any]) -> list[Outcome]:
    """SendGrid Event Webhook: bounce (type bounce = hard, blocked = soft), dropped for a
    suppressed address, deferred, spamreport, unsubscribe, and successes."""
    name = _required(event, "event")
    if name == "bounce":
        kind = SOFT if event.get("type") == "blocked" else HARD
    elif name == "dropped":
        kind = SENDGRID_DROP_REASONS.get(str(event.get("reason", "")))
    else:
        kind = {"deferred": SOFT, "spamreport": COMPLAINT, "unsubscribe": UNSUBSCRIBE, "group_unsubscribe": UNSUBSCRIBE,
                "delivered": SUCCESS, "open": SUCCESS, "click": SUCCESS}.get(name)
    return [Outcome(_address(event, "email"), kind, _epoch(event.get("timestamp")))] if kind else []


def ses(event: dict[str, Any]) -> list[Outcome]:
    """Amazon SES notifications (``notificationType``) or event publishing (``eventType``),
    bare or inside the SNS envelope that carries them as a JSON string in ``Message``."""
    if event.get("Type") == "Notification" and "Message" in event:
        try:
            event = json.loads(event["Message"])
        except (TypeError, json.JSONDecodeError):
            raise BadEvent("SNS Message is not a JSON SES notification") from None
    kind_name = event.get("notificationType") or event.get("eventType")
    if kind_name == "Bounce":
        bounce = _object(event, "bounce")
        # Only Permanent is certain; Transient and Undetermined count as soft, so three in a row suppress.
        kind = HARD if bounce.get("bounceType") == "Permanent" else SOFT
        return _ses_recipients(bounce, "bouncedRecipients", kind)
    if kind_name == "Complaint":
        return _ses_recipients(_object(event, "complaint"), "complainedRecipients", COMPLAINT)
    if kind_name == "Delivery":
        delivery = _object(event, "delivery")
        when = _iso(delivery.get("timestamp"))
        return [Outcome(_checked(address), SUCCESS, when) for address in delivery.get("recipients", [])]
    if not kind_name:
        raise BadEvent("no notificationType or eventType")
    return []


PARSERS: dict[str, Callable[[dict[str, Any]], list[Outcome]]] = {
    "postmark": postmark,
    "mailgun": mailgun,
    "sendgrid": sendgrid,
    "ses": ses,
}


def import_bounces(path: Path, provider: str, ledger: SendLedger) -> ImportReport:
    """Read ``path``, apply every good event to the ledger in one transaction, and
    report what happened (bad lines are listed in ``errors`` as ``file:line: ...``)."""
    parse = PARSERS[provider]
    report = ImportReport()
    outcomes: list[tuple[int, Outcome]] = []
    for raw in read_events(path):
        try:
            if raw.error:
                raise BadEvent(raw.error)
            if not isinstance(raw.data, dict):
                raise BadEvent("expected a JSON object")
            found = parse(raw.data)
        except BadEvent as exc:
            report.errors.append(f"{path}:{raw.line}: {exc}")
            continue
        report.events += 1
        outcomes.extend((raw.line, outcome) for outcome in found)
    with ledger.transaction():
        for outcome in _in_time_order(outcomes):
            report.counts[outcome.kind] += 1
            if _apply(outcome, ledger, provider):
                report.suppressed.append(outcome.email)
    return report


@dataclass(frozen=True)
class RawEvent:
    """One event as read from the file, or why its line could not be read."""

    line: int
    data: Any = None
    error: str = ""


def read_events(path: Path) -> Iterator[RawEvent]:
    """Events from a JSON-lines file, or from a CSV file (by its .csv suffix)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ContentError("file not found", path) from None
    except UnicodeDecodeError:
        raise ContentError("not UTF-8 text", path) from None
    except OSError as exc:
        raise ContentError(f"cannot read ({exc.strerror})", path) from None
    if path.suffix.lower() == ".csv":
        yield from _csv_events(text, path)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawEvent(number, error=f"not JSON ({exc.msg} at column {exc.colno})")
            continue
        for item in value if isinstance(value, list) else [value]:
            yield RawEvent(number, item)


def _csv_events(text: str, path: Path) -> Iterator[RawEvent]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            if None in row:
                yield RawEvent(reader.line_num, error="more fields than the header row")
                continue
            yield RawEvent(reader.line_num, {k.strip(): v.strip() for k, v in row.items() if k and v})
    except csv.Error as exc:
        raise ContentError(f"not valid CSV: {exc}", path, reader.line_num) from None


def _apply(outcome: Outcome, ledger: SendLedger, provider: str) -> bool:
    """Update the ledger for one outcome; True if it newly suppressed the address."""
    if outcome.kind == SUCCESS:
        ledger.reset_soft_bounces(outcome.email)
        return False
    if outcome.kind == SOFT:
        in_a_row = ledger.count_soft_bounce(outcome.email)
        if in_a_row < SOFT_BOUNCE_LIMIT:
            return False
        return ledger.suppress(outcome.email, REASONS[SOFT], f"{provider}: {in_a_row} soft bounces in a row")
    return ledger.suppress(outcome.email, REASONS[outcome.kind], f"{provider}: {outcome.kind}")


def _in_time_order(outcomes: list[tuple[int, Outcome]]) -> list[Outcome]:
    """By timestamp where every outcome has one (exports are often newest first), else file order."""
    if outcomes and all(o.when is not None for _, o in outcomes):
        outcomes = sorted(outcomes, key=lambda pair: (pair[1].when, pair[0]))
    return [outcome for _, outcome in outcomes]


def _ses_recipients(body: dict[str, Any], key: str, kind: str) -> list[Outcome]:
    recipients = body.get(key)
    if not isinstance(recipients, list) or not recipients:
        raise BadEvent(f"no {key}")
    when = _iso(body.get("timestamp"))
    return [Outcome(_address(r if isinstance(r, dict) else {}, "emailAddress"), kind, when) for r in recipients]


def _required(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"no {key!r} field")
    return value


def _object(event: dict[str, Any], key: str) -> dict[str, Any]:
    value = event.get(key)
    if not isinstance(value, dict):
        raise BadEvent(f"no {key!r} object")
    return value


def _address(event: dict[str, Any], key: str) -> str:
    return _checked(_required(event, key))


def _checked(address: Any) -> str:
    try:
        return normalise_address(str(address)).lower()
    except HeaderError as exc:
        raise BadEvent(str(exc)) from None


def _iso(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadEvent(f"timestamp {value!r} is not ISO 8601") from None
    return _utc(when)


def _epoch(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadEvent(f"timestamp {value!r} is not seconds since 1970") from None


def _utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc) if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
