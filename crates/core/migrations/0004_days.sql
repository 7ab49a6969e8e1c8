-- Schema 4: business days, reconciliation and day close (crates/core/src/report).
--
-- A settlement or a finished refund is *booked* into a business day: the
-- payment's own day (the day of its creation), unless that day is closed,
-- in which case it is an adjustment of the next day that is still open.
-- `booked_day` is written in the same transaction as the state change and
-- never changes afterwards.
ALTER TABLE payments ADD COLUMN booked_day TEXT;
ALTER TABLE refunds ADD COLUMN booked_day TEXT;
UPDATE payments SET booked_day = business_day
 WHERE state IN ('settled', 'refund_pending', 'partially_refunded', 'refunded');
UPDATE refunds SET booked_day = (SELECT p.business_day FROM payments p WHERE p.id = refunds.payment_id)
 WHERE state = 'done';
CREATE INDEX payments_booked ON payments(booked_day) WHERE booked_day IS NOT NULL;
CREATE INDEX refunds_booked ON refunds(booked_day) WHERE booked_day IS NOT NULL;

-- Closed days: the Z-report exactly as it was shown and synced. Append-only.
CREATE TABLE day_closes (
    day             TEXT PRIMARY KEY,      -- YYYY-MM-DD, the business day
    closed_at       TEXT NOT NULL,
    closed_by       TEXT NOT NULL,
    report          TEXT NOT NULL,         -- the Z-report JSON
    report_sha256   TEXT NOT NULL,         -- of `report`, also in the day.closed event
    outbox_sequence INTEGER NOT NULL       -- the day.closed record (outbox.payment_id holds the day)
);
CREATE TRIGGER day_closes_no_update BEFORE UPDATE ON day_closes
BEGIN SELECT RAISE(ABORT, 'a closed day cannot be changed'); END;
CREATE TRIGGER day_closes_no_delete BEFORE DELETE ON day_closes
BEGIN SELECT RAISE(ABORT, 'a closed day cannot be changed'); END;

-- How each disagreement of a reconciliation was dealt with. Append-only.
CREATE TABLE resolutions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    day             TEXT NOT NULL,
    disagreement_id TEXT NOT NULL,
    action          TEXT NOT NULL,         -- recheck | acknowledge
    note            TEXT,
    outcome         TEXT,                  -- what happened (recheck: what the provider said)
    actor           TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX resolutions_day ON resolutions(day, id);
CREATE TRIGGER resolutions_no_update BEFORE UPDATE ON resolutions
BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
CREATE TRIGGER resolutions_no_delete BEFORE DELETE ON resolutions
BEGIN SELECT RAISE(ABORT, 'resolutions are append-only'); END;
