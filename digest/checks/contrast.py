"""Colour contrast as WCAG 2 defines it, and the theme's colour pairs in light and dark.

Every text colour of the theme is used on both backgrounds (the page band and the
card), so each pair must reach 4.5:1 (WCAG AA for body text) in light mode, and the
``dark_*`` pairs in dark mode. A pair that does not is reported at its ``[theme]``
line in config.toml.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from ..config import Settings
from ..content import Finding, Issue

AA_NORMAL_TEXT = 4.5

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RGB = re.compile(r"rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)")

TEXT_COLOURS = ("text", "muted", "accent")
BACKGROUNDS = ("card", "background")


def parse_colour(value: str) -> tuple[int, int, int] | None:
    """``#abc``, ``#aabbcc`` or an opaque ``rgb()``/``rgba()``; None for anything else."""
    value = value.strip()
    match = _HEX.fullmatch(value)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    match = _RGB.fullmatch(value)
    if match and (match.group(4) is None or float(match.group(4)) >= 1):
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    return None


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def check_theme_contrast(issue: Issue, settings: Settings) -> Iterable[Finding]:
    """Each theme text colour on each theme background, light and dark, reaches 4.5:1."""
    theme = settings.theme
    config = settings.source or Path("config.toml")
    lines = _key_lines(settings.source)
    for prefix, mode in (("", "light"), ("dark_", "dark")):
        for text_key in TEXT_COLOURS:
            for background_key in BACKGROUNDS:
                fg_key, bg_key = prefix + text_key, prefix + background_key
                fg, bg = parse_colour(getattr(theme, fg_key)), parse_colour(getattr(theme, bg_key))
                if fg is None or bg is None:
                    bad = fg_key if fg is None else bg_key
                    yield Finding("warning", f"[theme] {bad} = {getattr(theme, bad)!r} is not a #rrggbb colour; its contrast cannot be checked", config, lines.get(bad))
                    continue
                ratio = contrast_ratio(fg, bg)
                if ratio < AA_NORMAL_TEXT:
                    yield Finding("warning", f"[theme] {fg_key} {getattr(theme, fg_key)} on {bg_key} {getattr(theme, bg_key)} has contrast {ratio:.2f}:1 in {mode} mode; WCAG AA needs {AA_NORMAL_TEXT}:1", config, lines.get(fg_key))


def _key_lines(path: Path | None) -> dict[str, int]:
    """Line of each key inside config.toml's [theme] table."""
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([\w-]+)\s*\]", line)
        if header:
            table = header.group(1)
        elif table == "theme":
            key = re.match(r"\s*([\w-]+)\s*=", line)
            if key:
                lines.setdefault(key.group(1), number)
    return lines
