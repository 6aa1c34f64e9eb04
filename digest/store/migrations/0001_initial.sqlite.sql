-- The ledger as it was before schema versions: suppressions, soft bounces, one send run
-- per issue and one delivery row per member. IF NOT EXISTS, so a ledger made by that
-- code (which has these tables and no schema_version) is adopted as version 1 unchanged.
CREATE TABLE IF NOT EXISTS suppressions (
    email      TEXT PRIMARY KEY,   -- lower-cased address
    reason     TEXT NOT NULL,      -- unsubscribe | bounce | complaint | manual | import
    source     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS soft_bounces (
    email      TEXT PRIMARY KEY,   -- lower-cased address
    in_a_row   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sends (
    id           INTEGER PRIMARY KEY,
    issue        TEXT NOT NULL UNIQUE, -- issue slug: one send run per issue, resumed in place
    backend      TEXT NOT NULL,
    runs         INTEGER NOT NULL DEFAULT 1,
    started_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    completed_at TEXT                  -- set when a run ended with every member final
);
CREATE TABLE IF NOT EXISTS deliveries (
    send_id     INTEGER NOT NULL REFERENCES sends(id),
    email       TEXT NOT NULL,              -- lower-cased address
    state       TEXT NOT NULL,              -- sending | sent | queued | deferred | failed
    message_id  TEXT NOT NULL DEFAULT '',   -- our Message-ID, reused when sent again
    provider_id TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (send_id, email)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (send_id, state);
