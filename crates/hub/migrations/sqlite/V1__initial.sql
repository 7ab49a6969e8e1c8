-- till-hub schema, SQLite flavour. Amounts are TEXT holding exact decimal
-- strings (summed with rust_decimal in Rust, never as REAL).
CREATE TABLE terminals (
    id                 TEXT PRIMARY KEY,
    name               TEXT,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at         TEXT NOT NULL,
    highest_contiguous INTEGER NOT NULL DEFAULT 0,
    max_sequence       INTEGER NOT NULL DEFAULT 0,
    last_received_at   TEXT
);

CREATE TABLE terminal_keys (
    key_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    kind        TEXT NOT NULL CHECK (kind IN ('hmac', 'ed25519')),
    material    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    created_at  TEXT NOT NULL,
    retired_at  TEXT
);
CREATE INDEX terminal_keys_terminal ON terminal_keys(terminal_id);

-- One row per webhook id, ever. The implicit rowid is the read API's cursor.
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    terminal_id    TEXT NOT NULL REFERENCES terminals(id),
    sequence       INTEGER NOT NULL CHECK (sequence >= 1),
    type           TEXT NOT NULL,
    payment_id     TEXT,
    provider       TEXT,
    currency       TEXT,
    amount         TEXT,
    refund_id      TEXT,
    refund_amount  TEXT,
    business_day   TEXT NOT NULL,
    occurred_at    TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    body           TEXT NOT NULL,
    UNIQUE (terminal_id, sequence)
);
CREATE INDEX events_day ON events(business_day, terminal_id);

CREATE TABLE read_tokens (
    token_sha256 TEXT PRIMARY KEY,
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
