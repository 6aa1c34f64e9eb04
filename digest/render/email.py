"""MJML -> responsive HTML -> CSS inlined, with the library defaults that break email fixed.

premailer must keep ``!important`` (MJML's column widths and our dark-mode rules need
it), must not fetch stylesheets over the network, and drops the doctype, which we put
back. Two more of its habits break Outlook desktop, which lays out by HTML attributes:

- it rewrites the ``width``/``height`` attributes of every element a rule matches from
  its CSS, turning MJML's ``<img width="552">`` into ``width="100%"``, which Outlook
  ignores (images then show at natural size). We never let it write those attributes:
  MJML already sets pixel widths on every image and Outlook table.
- it inlines MJML's own reset block (``table, td {border-collapse...}`` onto every cell,
  82 times in the seed issue) and drops ``#outlook a``, which matches no element. That
  block is marked ``data-premailer="ignore"`` so it stays in ``<head>`` whole: every
  client that honours the reset reads it from there.

cssutils' warnings about ``mso-*`` properties are noise. docs/email-rendering.md lists
the other defaults the renderer relies on.
"""
from __future__ import annotations

import logging
import re

import mjml
import premailer

from ..errors import TemplateError

DOCTYPE = "<!doctype html>"

logging.getLogger("CSSUTILS").setLevel(logging.ERROR)

# MRML's reset block, which always opens with the ``#outlook a`` rule.
_MJML_RESET = re.compile(r'<style type="text/css">(\s*#outlook a\s*\{)')
_EMPTY_FONT = re.compile(r"font-family:\s*;")


def compile_mjml(source: str, template_name: str = "email.mjml") -> str:
    """Compile MJML with MRML; MJML's web-font links are left out so nothing is fetched."""
    try:
        html = mjml.mjml2html(source, fonts={})
    except ValueError as exc:
        raise TemplateError(f"MJML could not compile the rendered template: {exc}", template_name) from None
    # An empty mj-all font-family leaves "font-family:;" on every block: the font is
    # set once on the page wrapper and inherited (Outlook gets its own MSO rule).
    html = _EMPTY_FONT.sub("", html)
    return _MJML_RESET.sub(r'<style type="text/css" data-premailer="ignore">\1', html, count=1)


def inline_css(html: str) -> str:
    """Inline the <style> rules into elements; keep media queries (responsive, dark mode)."""
    inliner = premailer.Premailer(
        strip_important=False,
        allow_network=False,
        keep_style_tags=False,
        remove_classes=False,
        preserve_handlebar_syntax=True,
        disable_validation=True,
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.ERROR,
    )
    inlined = inliner.transform(html)
    return DOCTYPE + "\n" + re.sub(r"^\s*<!doctype[^>]*>\s*", "", inlined, flags=re.IGNORECASE)
