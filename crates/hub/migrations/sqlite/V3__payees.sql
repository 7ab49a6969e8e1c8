-- The payee (receiving account) each terminal's events name, per provider:
-- the one of the highest sequence seen. A new payee is a change, flagged on
-- the terminal with when and old → new (GET /v1/terminals, …/payees).
CREATE TABLE terminal_payees (
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    provider    TEXT NOT NULL,
    payee       TEXT NOT NULL,
    sequence    INTEGER NOT NULL,   -- the latest event that named it
    since       TEXT NOT NULL,      -- occurred_at of the first event that named it
    PRIMARY KEY (terminal_id, provider)
);

CREATE TABLE payee_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    terminal_id TEXT NOT NULL REFERENCES terminals(id),
    provider    TEXT NOT NULL,
    old_payee   TEXT NOT NULL,
    new_payee   TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    event_id    TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    detected_at TEXT NOT NULL
);
CREATE INDEX payee_changes_terminal ON payee_changes(terminal_id, id);
