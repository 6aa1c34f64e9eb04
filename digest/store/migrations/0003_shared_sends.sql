-- Sends shared by workers (digest send --workers N, digest send --join): the audience
-- snapshot (audience_members, 0002) cut into batches that workers claim under leases,
-- the workers themselves, and one pacing row a send so [sending] rate holds for all.
-- Times in these tables are seconds since the epoch on the database's clock, so leases
-- and rate slots are judged alike whichever machine a worker runs on.
CREATE TABLE IF NOT EXISTS batches (
    send_id     INTEGER NOT NULL REFERENCES sends(id),
    batch       INTEGER NOT NULL,
    first_position INTEGER NOT NULL,               -- audience_members positions first..last
    last_position  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',   -- pending | claimed | done
    worker      TEXT NOT NULL DEFAULT '',
    claims      INTEGER NOT NULL DEFAULT 0,        -- over 1: taken over from a worker that stopped
    claimed_at  DOUBLE PRECISION,
    lease_until DOUBLE PRECISION,                  -- renewed by the holder's heartbeat
    PRIMARY KEY (send_id, batch)
);
CREATE INDEX IF NOT EXISTS batches_by_state ON batches (send_id, state, batch);
CREATE TABLE IF NOT EXISTS workers (
    send_id      INTEGER NOT NULL REFERENCES sends(id),
    worker       TEXT NOT NULL,                    -- host:pid:random
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    state        TEXT NOT NULL,                    -- working | done | stopped | failed
    started_at   DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    sent         INTEGER NOT NULL DEFAULT 0,       -- messages this worker had accepted
    PRIMARY KEY (send_id, worker)
);
CREATE TABLE IF NOT EXISTS pacing (
    send_id INTEGER NOT NULL PRIMARY KEY REFERENCES sends(id),
    rate    DOUBLE PRECISION NOT NULL,             -- messages a second for all workers together
    next_at DOUBLE PRECISION NOT NULL              -- when the next message may go
);
