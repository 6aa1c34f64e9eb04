"""Preflight checks: every problem in an issue, each naming its file and line;
``check`` prints them and the preview shows them."""
