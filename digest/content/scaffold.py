"""``digest new``: a fresh issue folder whose only finding in ``digest check`` is its
example item, so an editor starts from something that builds and cannot be sent
until the example is replaced or removed.

The folder is written under a temporary name and renamed into place, so a failure
leaves no half-made issue, and an existing folder is never touched.
"""
from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..addresses import check_header_value
from ..config import Settings
from . import ISSUE_FILE
from ..errors import ContentError, DigestError
from .tomledit import toml_string

EXAMPLE_ITEM = "example-item.md"
EXAMPLE_TITLE = "An example item: replace it"
EXAMPLE_BODY = "Write two or three sentences in Markdown about the linked page."
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MONTH_SLUG = re.compile(r"^(\d{4})-(\d{2})(?![0-9])")

_ISSUE_TOML = """\
# {title}, {month}. Sections list their item files in the order they appear.
# `digest add {slug} URL` and `digest pull {slug}` append to the last section (or to
# --section NAME); `digest item mv|rm|undraft` and `digest section rename` rearrange.
# Every command keeps these comments.
title = {title_toml}
date = {date}
subject = {subject_toml}
preheader = "One sentence inboxes show after the subject: what is in this issue."

[[sections]]
title = "News"
items = [
    "{example}",
]
"""

_EXAMPLE_ITEM = f"""\
+++
title = "{EXAMPLE_TITLE}"
link = "https://example.org/"
+++
{EXAMPLE_BODY} `digest check` reports this
item as an error until you rewrite it or remove it (`digest item rm ISSUE {EXAMPLE_ITEM}`).
"""


def new_issue(settings: Settings, slug: str, title: str | None = None, date: dt.date | None = None) -> Path:
    """Create ``<issues_dir>/<slug>/`` with issue.toml and an example item; never overwrite."""
    if not _SLUG.match(slug) or ".." in slug:
        raise DigestError(f"issue name {slug!r} must be letters, digits, '.', '_' or '-' (e.g. 2026-01)")
    title = (title or settings.newsletter.name).strip()
    check_header_value("--title", title)
    if not title:
        raise DigestError("--title must not be empty")
    date = date or month_end(slug) or dt.date.today()
    folder = settings.issues_dir / slug
    if folder.exists():
        raise ContentError("already exists; not overwriting it", folder)
    month = f"{date:%B %Y}"
    files = {
        ISSUE_FILE: _ISSUE_TOML.format(
            title=title, month=month, slug=slug,
            title_toml=toml_string(title), date=date.isoformat(),
            subject_toml=toml_string(f"{title}, {month}"), example=EXAMPLE_ITEM,
        ),
        EXAMPLE_ITEM: _EXAMPLE_ITEM,
    }
    _write_folder(folder, files)
    return folder


def month_end(slug: str) -> dt.date | None:
    """The last day of the month a ``YYYY-MM`` slug names (an issue is dated when it
    goes out, at the end of its month), or None for any other slug."""
    match = _MONTH_SLUG.match(slug)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _write_folder(folder: Path, files: dict[str, str]) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise ContentError(f"cannot create ({exc.strerror})", folder.parent) from None
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():
            raise ContentError("already exists; not overwriting it", folder)
        os.rename(staging, folder)
    except OSError as exc:
        raise ContentError(f"cannot create ({exc.strerror})", folder) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
