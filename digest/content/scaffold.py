"""``digest new``: a fresh issue folder that already passes ``digest check``, so an
editor starts from something that builds and replaces it piece by piece.

The folder is written under a temporary name and renamed into place, so a failure
leaves no half-made issue, and an existing folder is never touched.
"""
from __future__ import annotations

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
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MONTH_SLUG = re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])(?:$|[-_.])")

_ISSUE_TOML = """\
# {title}, {month}. Sections list their item files in the order they appear.
# `digest add {folder} URL` and `digest pull {folder}` append to the last section
# (or to --section NAME) and keep these comments.
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

_EXAMPLE_ITEM = """\
+++
title = "An example item: replace it"
link = "https://example.org/"
+++
Write two or three sentences in Markdown about the linked page. Delete this file and
its line in issue.toml once the issue has real items.
"""


def new_issue(settings: Settings, slug: str, title: str | None = None, date: dt.date | None = None) -> Path:
    """Create ``<issues_dir>/<slug>/`` with issue.toml and an example item; never overwrite."""
    if not _SLUG.match(slug) or ".." in slug:
        raise DigestError(f"issue name {slug!r} must be letters, digits, '.', '_' or '-' (e.g. 2026-01)")
    title = (title or settings.newsletter.name).strip()
    check_header_value("--title", title)
    if not title:
        raise DigestError("--title must not be empty")
    date = date or _date_for(slug)
    folder = settings.issues_dir / slug
    if folder.exists():
        raise ContentError("already exists; not overwriting it", folder)
    month = f"{date:%B %Y}"
    files = {
        ISSUE_FILE: _ISSUE_TOML.format(
            title=title, month=month, folder=_display(folder, settings),
            title_toml=toml_string(title), date=date.isoformat(),
            subject_toml=toml_string(f"{title}, {month}"), example=EXAMPLE_ITEM,
        ),
        EXAMPLE_ITEM: _EXAMPLE_ITEM,
    }
    _write_folder(folder, files)
    return folder


def _date_for(slug: str) -> dt.date:
    """Without --date: today, unless the slug names another month (``2026-01``), whose
    first day is used, so the title and subject name the issue's month."""
    match = _MONTH_SLUG.match(slug)
    today = dt.date.today()
    if match is None:
        return today
    year, month = int(match["year"]), int(match["month"])
    if (year, month) == (today.year, today.month):
        return today
    return dt.date(year, month, 1)


def _display(folder: Path, settings: Settings) -> str:
    try:
        return str(folder.relative_to(settings.root))
    except ValueError:
        return str(folder)


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
