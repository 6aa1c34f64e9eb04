"""The members' side: the members file and its import into the store, tokens, the
public web app (sign-up, confirmation, preferences, one-click unsubscribe), the
suppression list as CSV, and provider bounce imports."""
