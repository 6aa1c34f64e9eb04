"""digest: newsletter issues as files, rendered once to responsive email, sent exactly once."""

__version__ = "0.1.0"
