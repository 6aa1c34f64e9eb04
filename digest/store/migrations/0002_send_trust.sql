-- Sends an organisation can trust: one send at a time per issue (a lease naming its
-- holder), the audience fixed when a send starts (its members with language and fields,
-- the rows skipped, where they came from), and the member's language on each delivery.
-- A ledger made before schema versions but after these tables existed has them all,
-- and is adopted as version 2 without running this file (see __init__.py).
ALTER TABLE deliveries ADD COLUMN language TEXT NOT NULL DEFAULT '';
CREATE TABLE IF NOT EXISTS audiences (
    send_id     INTEGER PRIMARY KEY REFERENCES sends(id),
    source      TEXT NOT NULL,      -- where the members came from (a file's absolute path, or a source's name)
    source_hash TEXT NOT NULL,      -- sha256 of the source as it was read
    members     INTEGER NOT NULL,   -- rows in audience_members
    skipped     INTEGER NOT NULL,   -- rows in audience_skipped
    taken_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audience_members (
    send_id  INTEGER NOT NULL REFERENCES sends(id),
    position INTEGER NOT NULL,            -- order of sending: the source's order
    email    TEXT NOT NULL,               -- the address as it is mailed (domain in A-labels)
    name     TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    fields   TEXT NOT NULL DEFAULT '{}',  -- JSON object: every column, for member.<column>
    line     INTEGER NOT NULL DEFAULT 0,  -- where the source had the member
    PRIMARY KEY (send_id, position)
);
CREATE TABLE IF NOT EXISTS audience_skipped (
    send_id  INTEGER NOT NULL REFERENCES sends(id),
    line     INTEGER NOT NULL,
    email    TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,               -- invalid | duplicate | suppressed
    reason   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audience_skipped_by_send ON audience_skipped (send_id, line);
CREATE TABLE IF NOT EXISTS send_leases (
    issue        TEXT PRIMARY KEY,   -- issue slug
    holder       TEXT NOT NULL,      -- random token of the run holding the lease
    pid          INTEGER NOT NULL,
    host         TEXT NOT NULL,
    user_name    TEXT NOT NULL DEFAULT '',
    acquired_at  TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);
