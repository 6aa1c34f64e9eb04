"""Content: the issue model and its reader, scaffolding, and ``issue.toml`` edits."""
from .loader import ISSUE_FILE, Finding, Issue, Item, Section, load_issue, load_item

__all__ = ["ISSUE_FILE", "Finding", "Issue", "Item", "Section", "load_issue", "load_item"]
