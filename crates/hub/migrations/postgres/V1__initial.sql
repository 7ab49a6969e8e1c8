-- till-hub schema, PostgreSQL flavour. Amounts are NUMERIC (exact).
CREATE TABLE terminals (
    id                 TEXT PRIMARY KEY,
    name               TEXT,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at         TIMESTAMPTZ NOT NULL,
    highest_contiguous BIGINT NOT NULL DEFAULT 0,
    max_sequence       BIGINT NOT NULL DEFAULT 0,
    last_received_at   TIMESTAMPTZ
);

CREATE TABLE terminal_keys (
    key_id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    kind        TEXT NOT NULL CHECK (kind IN ('hmac', 'ed25519')),
    material    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    created_at  TIMESTAMPTZ NOT NULL,
    retired_at  TIMESTAMPTZ
);
CREATE INDEX terminal_keys_terminal ON terminal_keys(terminal_id);

-- One row per webhook id, ever. row_no is the read API's cursor.
CREATE TABLE events (
    id             TEXT PRIMARY KEY,
    row_no         BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    terminal_id    TEXT NOT NULL REFERENCES terminals(id),
    sequence       BIGINT NOT NULL CHECK (sequence >= 1),
    type           TEXT NOT NULL,
    payment_id     TEXT,
    provider       TEXT,
    currency       TEXT,
    amount         NUMERIC,
    refund_id      TEXT,
    refund_amount  NUMERIC,
    business_day   DATE NOT NULL,
    occurred_at    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    body           TEXT NOT NULL,
    UNIQUE (terminal_id, sequence)
);
CREATE INDEX events_day ON events(business_day, terminal_id);

CREATE TABLE read_tokens (
    token_sha256 TEXT PRIMARY KEY,
    label        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
