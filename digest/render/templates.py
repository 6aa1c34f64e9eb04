"""The one Jinja2 environment: templates/ is the editor's theme, errors name the file.

Autoescape is on for .mjml and .html (MJML is HTML); .txt templates produce the
plain-text part and are not escaped. StrictUndefined turns a typo
in a template into an error with the template's file and line instead of a blank.

One environment serves every language: Jinja's i18n extension compiles ``_()`` and
``{% trans %}`` to calls of ``gettext``, which each render passes in its context
(``language_context``), so templates are compiled once, not once per language.
A condition on a ``member.*`` value is refused when a template is loaded: member
values are slots filled after the one render, so such a test is the same for every
member (never what the editor meant).
"""
from __future__ import annotations

import gettext as gettext_module
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from jinja2 import nodes, pass_context
from markupsafe import Markup

from ..errors import TemplateError
from ..i18n import format_long_date, language_name, text_direction
from .markdown import markdown_to_html

MEMBER = "member"


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """Build the environment once per run; compiled templates are cached inside it."""
    if not templates_dir.is_dir():
        raise TemplateError("templates folder not found", templates_dir)
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("mjml", "html", "xml"), disabled_extensions=("txt",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # renders pass their own
    env.filters["markdown"] = markdown_to_html
    env.filters["css"] = css_value
    env.filters["longdate"] = _long_date
    env.globals["lang_attr"] = _lang_attr
    env.globals["language_name"] = language_name
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


def language_context(translations: gettext_module.NullTranslations, language: str) -> dict[str, Any]:
    """What a render in ``language`` adds to the context: ``language``, ``dir`` and the
    gettext callables (Jinja's new-style ones: variables as keywords, autoescaped)."""
    gettext, ngettext = _newstyle(translations)
    return {"language": language, "dir": text_direction(language), "gettext": gettext, "_": gettext, "ngettext": ngettext}


def _newstyle(translations: gettext_module.NullTranslations) -> tuple[Callable[..., str], Callable[..., str]]:
    @pass_context
    def gettext(__context: Any, __string: str, **variables: Any) -> str:
        text = translations.gettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def ngettext(__context: Any, __singular: str, __plural: str, __num: int, **variables: Any) -> str:
        variables.setdefault("num", __num)
        text = translations.ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return gettext, ngettext


@pass_context
def _long_date(context: Any, day: Any) -> str:
    return format_long_date(day, context.get("language") or "en")


@pass_context
def _lang_attr(context: Any, language: str) -> Markup:
    """`` lang="en"`` when a block's language is not the page's, else nothing: screen
    readers switch voice for the block, and same-language markup stays as it was."""
    if not language or language == context.get("language"):
        return Markup("")
    return Markup(' lang="{}"').format(language)


class _Environment(jinja2.Environment):
    """Refuses a template that tests a ``member.*`` value, on the tree Jinja parses to
    compile it (``_parse`` is where ``compile`` gets it; checking there costs no
    second parse)."""

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for node, attribute in member_conditions(tree):
            raise TemplateError(
                f"condition on member.{attribute}: member values are filled in per member after the issue is rendered "
                f"(once per language), so this test comes out the same for everyone; to vary by language use "
                f"`language` (e.g. {{% if language == \"ja\" %}}) or a translated string", filename or name, node.lineno)
        return tree


def member_conditions(tree: nodes.Template) -> Iterator[tuple[nodes.Node, str]]:
    """Each test (if, elif, inline if, loop filter, comparison, ``is``) that reads a
    ``member`` attribute or item, unless the template binds ``member`` itself. One walk
    of the tree, then one of each test."""
    tests: list[nodes.Node] = []
    for node in tree.find_all((nodes.If, nodes.CondExpr, nodes.For, nodes.Compare, nodes.Test, nodes.Name)):
        if isinstance(node, nodes.Name):
            if node.name == MEMBER and node.ctx in ("store", "param"):
                return
        elif isinstance(node, (nodes.Compare, nodes.Test)):
            tests.append(node)
        elif node.test is not None:
            tests.append(node.test)
    for test in tests:
        for access in (test, *test.find_all((nodes.Getattr, nodes.Getitem))):
            if isinstance(access, (nodes.Getattr, nodes.Getitem)) and isinstance(access.node, nodes.Name) and access.node.name == MEMBER:
                attribute = access.attr if isinstance(access, nodes.Getattr) else getattr(access.arg, "value", "?")
                yield test, str(attribute)
                break


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
