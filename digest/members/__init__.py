"""The members' side: the members file, unsubscribe tokens, the public web app
(unsubscribe), the suppression list as CSV, and provider bounce imports."""
