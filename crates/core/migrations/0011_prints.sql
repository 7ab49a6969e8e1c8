-- Schema 11: every receipt print asked for, and how it went. Kept apart from
-- `payments` on purpose: a print is written after the payment is final, in a
-- transaction of its own, so a failed print never touches the payment's row,
-- its events or its outbox record. `payment_id` is NULL for a report or a
-- test print. `reason` is a `reason::Reason` as JSON when it failed.
CREATE TABLE prints (
    id INTEGER PRIMARY KEY,
    payment_id TEXT REFERENCES payments(id),
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'copy', 'report')),
    outcome TEXT NOT NULL CHECK (outcome IN ('printed', 'failed')),
    reason TEXT,
    at TEXT NOT NULL
);
CREATE INDEX prints_payment ON prints(payment_id, id);
