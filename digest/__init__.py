"""digest: newsletter issues as files, rendered once to responsive email, sent exactly once.

Where things live (one folder per concern; lower layers never import the CLI, the
preview or the web app)::

    cli/         the ``digest`` command: authoring, arranging, sending, deliverability, members,
                 site; thin, lazy imports
    config.py    config.toml + DIGEST_<TABLE>_<KEY> overrides -> Settings
    errors.py    DigestError and its subclasses (one line each at the CLI)
    addresses.py address and header-value checks, before any MIME is built
    i18n.py      language tags and matching, gettext catalogs (Babel), dates, text direction
    content/     the Issue model, its loader and translations, scaffolding, comment-preserving
                 issue.toml edits, arranging items and sections
    sources/     items from elsewhere: fetching within a total deadline, pages and feeds, link checking
    render/      Jinja + MJML + inlining per language, plain text, slots, MIME; ``build`` writes files
    checks/      the preflight findings ``check`` prints, ``preview`` shows and build/send refuse on
    delivery/    the send loop, its audience snapshot, lease and batches, shared-send workers, DKIM
                 signing; backends/ one module per provider
    doctor/      DNS and SMTP checks of the sending setup (SPF, DKIM, DMARC, BIMI, MX, TLS)
    store/       the ledger (an SQLite file or PostgreSQL, migrated on opening): send runs and
                 deliveries, audiences, leases, the members store (statuses are the suppressions),
                 confirmations, export and erasure, the batches and workers of shared sends
    members/     the members file and import/export, tokens, the public web app (sign-up,
                 confirmation, preferences, unsubscribe), bounce imports
    site/        the static archive and its Atom feeds, per language
    preview/     the staff preview server

The pipeline: content -> render (once per issue and language) -> personalise (per member, cheap)
-> delivery -> store. ``digest.web:app`` is the WSGI entry point of the members' app.
"""

__version__ = "0.1.0"
