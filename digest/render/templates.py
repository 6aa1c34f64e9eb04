"""The one Jinja2 environment: templates/ is the editor's theme, errors name the file.

Autoescape is on for .mjml and .html (MJML is HTML); .txt templates produce the
plain-text part and are not escaped. StrictUndefined turns a typo
in a template into an error with the template's file and line instead of a blank.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..errors import TemplateError
from .markdown import markdown_to_html


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """Build the environment once per run; compiled templates are cached inside it."""
    if not templates_dir.is_dir():
        raise TemplateError("templates folder not found", templates_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml", "html", "xml"), disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = markdown_to_html
    env.filters["css"] = css_value
    env.filters["longdate"] = lambda d: f"{d:%B} {d.day}, {d.year}"
    return env


_CSS_VALUE = re.compile(r"[\w\s#%,.'\"()/+-]*")


def css_value(value: str) -> Markup:
    """A theme value (colour, font stack) for a <style> block, where HTML escaping would
    break its quotes: passed through unescaped only if it cannot end the declaration,
    the rule or the style element."""
    text = str(value)
    if not _CSS_VALUE.fullmatch(text):
        raise TemplateError(f"theme value {text!r} has characters a CSS value may not hold (;{{}}<>\\)")
    return Markup(text)


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    """Render ``name``, turning Jinja's errors into a TemplateError naming file and line."""
    try:
        template = env.get_template(name)
        return template.render(context)
    except jinja2.TemplateNotFound as exc:
        search = ", ".join(getattr(env.loader, "searchpath", []))
        raise TemplateError(f"template {exc.name!r} not found (searched: {search})") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", exc.filename or name, exc.lineno) from None
    except jinja2.UndefinedError as exc:
        path, line = _template_frame(env)
        raise TemplateError(f"unknown template variable: {exc.message}", path or name, line) from None


def _template_frame(env: jinja2.Environment) -> tuple[str | None, int | None]:
    """Jinja rewrites tracebacks so template frames carry the template's path and line."""
    roots = [str(Path(p).resolve()) for p in getattr(env.loader, "searchpath", [])]
    tb = sys.exc_info()[2]
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if any(str(Path(filename).resolve()).startswith(root) for root in roots):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
