"""Content: the issue model, its reader, and the tools that write issue files
(scaffolding a new issue, comment-preserving ``issue.toml`` edits)."""
from .loader import ISSUE_FILE, load_issue, load_item
from .model import Finding, Issue, Item, Section

__all__ = ["ISSUE_FILE", "Finding", "Issue", "Item", "Section", "load_issue", "load_item"]
