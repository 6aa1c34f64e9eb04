"""The text part as RFC 3676 ``format=flowed; delsp=yes``, so phones reflow it.

A client that knows format=flowed joins a line ending in a space to the next one and,
with ``delsp=yes``, deletes that space: so a Japanese line cut between two characters
reflows without a stray space, and an English line cut at a space keeps the space it
was cut at (it ends in two). Clients that do not know it show the 72-column lines as
they are. The wrapper marks its soft breaks with ``SOFT`` while templates render;
``to_flowed`` turns them into trailing spaces once the whole part is assembled, strips
trailing spaces from every hard line, keeps the signature separator ``-- `` (the one
line that must end in a space without being flowed) and space-stuffs lines a decoder
would otherwise misread (a leading space, or ``From ``).
"""
from __future__ import annotations

import re

SOFT = "\ue000"  # private use: a soft line break made by the wrapper, never in content
SIGNATURE_SEPARATOR = "-- "
CONTENT_TYPE_PARAMS = "format=flowed; delsp=yes"

_BLANK_RUNS = re.compile(r"\n{3,}")


def tidy(text: str) -> str:
    """Template whitespace is hard to get right in plain text: trailing spaces go (soft
    breaks are still marked, so nothing is lost), runs of blank lines become one."""
    lines = [line if line == SIGNATURE_SEPARATOR else line.rstrip() for line in text.splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


def to_flowed(text: str) -> str:
    """The marked text as format=flowed, delsp=yes."""
    out = []
    for line in text.split("\n"):
        if line == SIGNATURE_SEPARATOR:
            out.append(line)
            continue
        if line.endswith(SOFT):
            line = line[: -len(SOFT)] + " "
        else:
            line = line.rstrip(" ")
        if line.startswith(" ") or line.startswith("From "):
            line = " " + line
        out.append(line.replace(SOFT, ""))
    return "\n".join(out)
