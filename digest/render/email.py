"""MJML -> responsive HTML -> CSS inlined, with the library defaults that break email fixed.

premailer must keep ``!important`` (MJML's column widths and our
dark-mode rules need it), must not fetch stylesheets over the network, and drops the
doctype, which we put back. cssutils' warnings about ``mso-*`` properties are noise.
docs/email-rendering.md lists the other defaults the renderer relies on.
"""
from __future__ import annotations

import logging
import re

import mjml
import premailer

from ..errors import TemplateError

DOCTYPE = "<!doctype html>"

logging.getLogger("CSSUTILS").setLevel(logging.ERROR)


def compile_mjml(source: str, template_name: str = "email.mjml") -> str:
    """Compile MJML with MRML; MJML's web-font links are left out so nothing is fetched."""
    try:
        return mjml.mjml2html(source, fonts={})
    except ValueError as exc:
        raise TemplateError(f"MJML could not compile the rendered template: {exc}", template_name) from None


def inline_css(html: str) -> str:
    """Inline the <style> rules into elements; keep media queries (responsive, dark mode)."""
    inliner = premailer.Premailer(
        strip_important=False,
        allow_network=False,
        keep_style_tags=False,
        remove_classes=False,
        preserve_handlebar_syntax=True,
        disable_validation=True,
        cssutils_logging_level=logging.ERROR,
    )
    inlined = inliner.transform(html)
    return DOCTYPE + "\n" + re.sub(r"^\s*<!doctype[^>]*>\s*", "", inlined, flags=re.IGNORECASE)
