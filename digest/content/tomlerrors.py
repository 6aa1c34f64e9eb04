"""TOML syntax errors in words an editor can act on.

tomllib says what its parser expected ("Expected newline or end of document after a
statement", "Illegal character '\\n'"), which rarely names the mistake. Most real
mistakes are a handful: an impossible date, a missing closing quote, an unquoted
value, ``:`` for ``=``, a key set twice. ``explain`` looks at the offending line and
says which, and how to fix it; anything else keeps tomllib's words.
"""
from __future__ import annotations

import datetime as dt
import re
import tomllib

_WHERE = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$")
_DATE_LIKE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\b")
_HEADER = re.compile(r"^\s*\[")


def explain(error: tomllib.TOMLDecodeError, text: str, first_line: int = 1) -> tuple[str, int]:
    """A plain-words message for ``error`` in ``text``, and the line it is on, counting
    the first line of ``text`` as ``first_line`` (front matter starts on line 2)."""
    message, line = _explain(error, text)
    shift = first_line - 1
    return re.sub(r"\(first on line (\d+)\)", lambda m: f"(first on line {int(m.group(1)) + shift})", message), line + shift


def _explain(error: tomllib.TOMLDecodeError, text: str) -> tuple[str, int]:
    raw = str(error)
    match = _WHERE.search(raw)
    reason = raw[: match.start()] if match else raw
    lines = text.splitlines() or [""]
    line = int(match.group(1)) if match and match.group(1) else len(lines)
    if reason == "Cannot overwrite a value":
        return _set_twice(lines) or (f"invalid TOML: {reason}", line)
    at_end = bool(match) and not match.group(1)
    if reason in ("Unterminated string", "Illegal character '\\n'") or (reason == "Invalid value" and at_end):
        unclosed = _unclosed(lines) or (_unclosed_list(lines) if at_end else None)
        if unclosed:
            return unclosed
    if reason == "Unterminated string":
        return 'invalid TOML: a """ or \'\'\' string is never closed: add its closing quotes', line
    source = lines[min(line, len(lines)) - 1]
    return _explain_line(reason, source), line


def _explain_line(reason: str, source: str) -> str:
    assignment = _ASSIGNMENT.match(source)
    key, value = (assignment.group(1), assignment.group(2)) if assignment else ("", "")
    date = _DATE_LIKE.match(value)
    if date:
        return f"invalid TOML: {key} = {value} is not a date: {_date_advice(*date.groups())}"
    if reason.startswith("Expected '=' after a key"):
        if re.match(r"^\s*[A-Za-z0-9_-]+\s*:", source):
            return "invalid TOML: write key = value (TOML uses '=', not ':')"
        return "invalid TOML: a key is one word (letters, digits, '_' or '-') followed by '='"
    if reason == "Invalid value" and key:
        return f"invalid TOML: {_value_advice(key, value)}"
    if reason == "Unclosed array":
        return "invalid TOML: a list needs a comma between its values and a closing ]"
    if reason.startswith("Expected newline or end of document") and key:
        if value.startswith("'") and value.count("'") > 2:
            return f"invalid TOML: the ' inside {key}'s text ends it early: put the text in double quotes (\"...\")"
        return f"invalid TOML: there is more after the value of {key}: one key = value a line, and quote text"
    if reason.startswith("Unescaped '\\'"):
        return "invalid TOML: a backslash in \"...\" starts an escape: write \\\\, or put the text in single quotes"
    if reason.startswith("Cannot declare") and _HEADER.match(source):
        return "invalid TOML: a table is declared twice: write every section as [[sections]], with two brackets"
    return f"invalid TOML: {reason}"


def _date_advice(year: str, month: str, day: str) -> str:
    if len(month) != 2 or len(day) != 2:
        return f"write the month and the day with two digits, {year}-{int(month):02d}-{int(day):02d}"
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        return f"{exc}; write YYYY-MM-DD, e.g. {year}-01-31"
    return "write it as YYYY-MM-DD, with nothing after it but a comment"


def _value_advice(key: str, value: str) -> str:
    if not value:
        return f"{key} has no value after '='"
    if value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return f"{key} = {value}: write true or false, in lower case"
    if value[0] in "\u201c\u201d\u2018\u2019":
        return f"{key} is quoted with typographic quotes: use straight quotes, {key} = \"{value.strip(chr(0x201c) + chr(0x201d) + chr(0x2018) + chr(0x2019))}\""
    if value.startswith("["):
        return f"each text in the list {key} must be quoted, e.g. [\"a\", \"b\"]"
    return f"text must be quoted: {key} = \"{value}\""


def _set_twice(lines: list[str]) -> tuple[str, int] | None:
    """The second assignment of a key within one table."""
    seen: dict[str, int] = {}
    for number, source in enumerate(lines, start=1):
        if _HEADER.match(source):
            seen = {}
            continue
        assignment = _ASSIGNMENT.match(source)
        if assignment:
            key = assignment.group(1)
            if key in seen:
                return f"invalid TOML: {key} is set twice (first on line {seen[key]}): keep one", number
            seen[key] = number
    return None


def _unclosed(lines: list[str]) -> tuple[str, int] | None:
    """The first line whose quoted value never closes on that line."""
    for number, source in enumerate(lines, start=1):
        assignment = _ASSIGNMENT.match(source)
        value = assignment.group(2) if assignment else ""
        if not value or value.startswith(('"""', "'''")):
            continue
        quote = value[0] if value[0] in "\"'" else ""
        if quote and not re.match(rf"^{quote}(?:[^{quote}\\\\]|\\\\.)*{quote}" if quote == '"' else r"^'[^']*'", value):
            return f"invalid TOML: the text of {assignment.group(1)} has no closing {quote}: add it at the end of the line", number
    return None


def _unclosed_list(lines: list[str]) -> tuple[str, int] | None:
    """The last ``key = [`` whose brackets are still open at the end of the text."""
    for number in range(len(lines), 0, -1):
        assignment = _ASSIGNMENT.match(lines[number - 1])
        if assignment and assignment.group(2).startswith("["):
            rest = "\n".join([assignment.group(2), *lines[number:]])
            bare = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*', "", rest)
            if bare.count("[") > bare.count("]"):
                return f"invalid TOML: the list {assignment.group(1)} is never closed: add ] after its last value", number
            return None
    return None
