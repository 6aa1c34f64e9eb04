"""Preflight checks: every problem in an issue, each naming its file and line; ``check``
prints them, the preview shows them, and ``build`` and ``send`` refuse on errors.

``preflight.py`` runs them; ``content.py`` checks what editors wrote, ``contrast.py``
the theme's colours, ``markup.py`` the rendered message, ``spam.py`` SpamAssassin's
score, ``addresses.py`` finds email addresses hidden in URLs."""
