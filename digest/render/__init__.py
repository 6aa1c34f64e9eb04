"""Rendering: content model -> MJML -> inlined HTML and plain text, once per issue and language.

``render_editions`` renders each of an issue's languages (``render_issue`` one of them);
what they return carries per-member slots that ``RenderedIssue.personalise`` fills
cheaply for each member.
"""
from .issue import RenderedIssue, render_editions, render_issue, render_web_page

__all__ = ["RenderedIssue", "render_editions", "render_issue", "render_web_page"]
