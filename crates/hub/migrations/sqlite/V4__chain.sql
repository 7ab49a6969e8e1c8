-- The head of each terminal's audit chain (count + hash, as last sent in a
-- till.batch/2) and every time a new head did not extend the held one.
CREATE TABLE chain_heads (
    terminal_id TEXT PRIMARY KEY REFERENCES terminals(id),
    count       INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    received_at TEXT NOT NULL
);

CREATE TABLE chain_breaks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id   TEXT NOT NULL REFERENCES terminals(id),
    held_count    INTEGER NOT NULL,
    held_hash     TEXT NOT NULL,
    sent_count    INTEGER NOT NULL,
    sent_hash     TEXT NOT NULL,
    sent_at_count INTEGER,
    sent_at_hash  TEXT,
    reason        TEXT NOT NULL,
    detected_at   TEXT NOT NULL
);
CREATE INDEX chain_breaks_terminal ON chain_breaks(terminal_id, id);
