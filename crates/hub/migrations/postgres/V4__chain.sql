-- The head of each terminal's audit chain (count + hash, as last sent in a
-- till.batch/2) and every time a new head did not extend the held one.
CREATE TABLE chain_heads (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals(id),
    count       BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE chain_breaks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    terminal_id   TEXT NOT NULL REFERENCES terminals(id),
    held_count    BIGINT NOT NULL,
    held_hash     TEXT NOT NULL,
    sent_count    BIGINT NOT NULL,
    sent_hash     TEXT NOT NULL,
    sent_at_count BIGINT,
    sent_at_hash  TEXT,
    reason        TEXT NOT NULL,
    detected_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX chain_breaks_terminal ON chain_breaks(terminal_id, id);
