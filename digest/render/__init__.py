"""Rendering: content model -> MJML -> inlined HTML and plain text, once per issue.

``render_issue`` is the one entry point; what it returns carries per-member slots that
``RenderedIssue.personalise`` fills cheaply for each member.
"""
from .issue import RenderedIssue, render_issue, render_web_page

__all__ = ["RenderedIssue", "render_issue", "render_web_page"]
