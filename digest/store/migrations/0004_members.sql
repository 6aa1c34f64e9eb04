-- The members store: each address once, with its profile, status (the suppression list
-- is the members whose status is unsubscribed, bounced or complained) and consent;
-- confirmation requests of double opt-in; what is kept of addresses that asked to be
-- forgotten (a salted hash). The suppressions table of earlier versions becomes
-- members' statuses (its reasons kept) and is dropped.
CREATE TABLE IF NOT EXISTS members (
    email          TEXT PRIMARY KEY,            -- lower-cased address: unique case-insensitively
    address        TEXT NOT NULL,               -- the normalised address as given, for To:
    name           TEXT NOT NULL DEFAULT '',
    language       TEXT NOT NULL DEFAULT '',
    fields         TEXT NOT NULL DEFAULT '{}',  -- custom fields, a JSON object of strings
    status         TEXT NOT NULL CHECK (status IN ('pending', 'subscribed', 'unsubscribed', 'bounced', 'complained')),
    status_reason  TEXT NOT NULL DEFAULT '',    -- why: unsubscribe | bounce | complaint | manual | import | confirmed
    status_source  TEXT NOT NULL DEFAULT '',    -- who said so: web, cli, import: FILE, postmark: hard, ...
    status_at      TEXT NOT NULL,
    consent_method TEXT NOT NULL DEFAULT '',    -- form | import | cli ('' until consent is given)
    consent_at     TEXT NOT NULL DEFAULT '',
    consent_ip     TEXT NOT NULL DEFAULT '',    -- the confirming client's /24 (IPv4) or /48 (IPv6) network
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS members_by_status ON members (status, email);
CREATE TABLE IF NOT EXISTS store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS forgotten (
    hash         TEXT PRIMARY KEY,   -- HMAC-SHA256(salt, lower-cased address), hex
    forgotten_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS confirmations (
    id           TEXT PRIMARY KEY,            -- random; the link carries it sealed, never the address
    email        TEXT NOT NULL,               -- lower-cased address
    name         TEXT NOT NULL DEFAULT '',    -- what the form asked for, applied on confirmation
    language     TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS confirmations_by_email ON confirmations (email, requested_at);
INSERT INTO members (email, address, status, status_reason, status_source, status_at, created_at, updated_at)
SELECT email, email,
       CASE reason WHEN 'bounce' THEN 'bounced' WHEN 'complaint' THEN 'complained' ELSE 'unsubscribed' END,
       reason, source, created_at, created_at, created_at
FROM suppressions WHERE true  -- SQLite needs a WHERE to parse ON CONFLICT after a SELECT
ON CONFLICT (email) DO NOTHING;
DROP TABLE suppressions;
