-- Migration 0012 (the 11th in `MIGRATIONS`, so `user_version` 11: the number
-- 0009 was set aside for this and never used, and a journal already at 0011
-- cannot take one in the middle). The local terminal API: the shop's own POS
-- starts charges (`till-terminal-api`).
--
-- `pos_keys`: one row per paired POS. The key itself is shown once, when it
-- is made; only the SHA-256 of its secret part is kept (a 256-bit random
-- secret: a slow hash would add nothing but latency to every request). A
-- revoked key stays (payments and the audit log name it); it never works again.
CREATE TABLE pos_keys (
    id          TEXT PRIMARY KEY,      -- pos_<ULID>, the key's public part
    name        TEXT NOT NULL,         -- "POS 1", as the cashier reads it
    secret_hash TEXT NOT NULL,         -- hex SHA-256 of the secret part
    hint        TEXT NOT NULL,         -- the key's last four characters, to tell keys apart
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  TEXT,
    last_used_at TEXT
);

-- Where a payment came from: a paired POS and its own order reference, which
-- is its idempotency key (one payment per POS and reference, ever).
ALTER TABLE payments ADD COLUMN origin_pos TEXT REFERENCES pos_keys(id);
ALTER TABLE payments ADD COLUMN origin_reference TEXT;
CREATE UNIQUE INDEX payments_origin ON payments(origin_pos, origin_reference)
    WHERE origin_pos IS NOT NULL;

-- What a same-state history row was, for the API's event stream
-- (`refund_request.created|approved|declined`); NULL for every other row.
ALTER TABLE payment_events ADD COLUMN kind TEXT;

-- A POS asks for a refund; only a manager on the till makes it (approving
-- begins the refund in the same transaction, `refund_id`). At most one
-- request of a payment waits at a time.
CREATE TABLE refund_requests (
    id          TEXT PRIMARY KEY,      -- rr_<ULID>
    payment_id  TEXT NOT NULL REFERENCES payments(id),
    pos_id      TEXT NOT NULL REFERENCES pos_keys(id),
    amount      TEXT NOT NULL,
    currency    TEXT NOT NULL,
    reason      TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
    refund_id   TEXT REFERENCES refunds(id),
    decided_by  TEXT,
    decided_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX refund_requests_waiting ON refund_requests(payment_id)
    WHERE state = 'pending';
CREATE INDEX refund_requests_state ON refund_requests(state, created_at);
