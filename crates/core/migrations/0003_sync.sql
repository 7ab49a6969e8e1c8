-- Schema 3: settlement sync state (crates/core/src/sync).
-- The queue itself is the `outbox` table of schema 1; this adds an index for
-- the sender's "next pending records in sequence order" and one row per hub
-- endpoint with what the terminal knows about it.
CREATE INDEX outbox_pending ON outbox(sequence) WHERE state = 'pending';
CREATE INDEX outbox_dead ON outbox(sequence) WHERE state = 'dead';

CREATE TABLE sync_endpoint (
    url                     TEXT PRIMARY KEY,
    gone_at                 TEXT,      -- set when the hub answered 410: delivery stopped until `till sync` or a new URL
    gone_reason             TEXT,
    last_ack_sequence       INTEGER,   -- highest sequence this hub acknowledged
    last_ack_at             TEXT,
    hub_highest_contiguous  INTEGER,   -- the hub's own highest contiguous sequence, as last reported
    last_error              TEXT,
    last_error_at           TEXT
);
