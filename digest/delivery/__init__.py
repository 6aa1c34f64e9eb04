"""Sending: who gets the issue (``audience``), one batch to one backend with retries
and pacing (``batches``), and the loop that records every answer (``send``).
Providers live in ``backends/``, one module each."""
