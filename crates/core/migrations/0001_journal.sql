-- Till journal, schema 1. Amounts are decimal TEXT at the currency's exponent;
-- times are RFC 3339 UTC TEXT with milliseconds.

CREATE TABLE payments (
    id                  TEXT PRIMARY KEY,          -- ULID, ours
    provider            TEXT NOT NULL,             -- bkash | bakong | demo
    amount              TEXT NOT NULL,
    currency            TEXT NOT NULL,
    state               TEXT NOT NULL,
    invoice             TEXT NOT NULL UNIQUE,      -- idempotency key (merchantInvoiceNumber / bill number), written before any call
    provider_payment_id TEXT UNIQUE,               -- bKash paymentID
    trx_id              TEXT,                      -- bKash trxID
    md5                 TEXT UNIQUE,               -- KHQR MD5
    hash                TEXT,                      -- Bakong transaction hash
    khqr                TEXT,                      -- the code shown
    redirect_url        TEXT,                      -- bKash checkout page
    callback_url        TEXT,
    expires_at          TEXT,
    execute_sent_at     TEXT,                      -- set before bKash execute leaves: never a second execute
    offline             INTEGER NOT NULL DEFAULT 0,-- shown while the provider was unreachable (awaiting verification)
    refunded            TEXT NOT NULL DEFAULT '0',
    flag                TEXT,                      -- why a manager must look (amount_mismatch, ...)
    failure_code        TEXT,
    failure_reason      TEXT,
    operator            TEXT NOT NULL,
    business_day        TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX payments_state ON payments(state);
CREATE INDEX payments_day ON payments(business_day, provider);

CREATE TABLE payment_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    payment_id TEXT NOT NULL REFERENCES payments(id),
    at         TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    detail     TEXT
);
CREATE INDEX payment_events_payment ON payment_events(payment_id, seq);
CREATE TRIGGER payment_events_no_update BEFORE UPDATE ON payment_events
BEGIN SELECT RAISE(ABORT, 'payment_events is append-only'); END;
CREATE TRIGGER payment_events_no_delete BEFORE DELETE ON payment_events
BEGIN SELECT RAISE(ABORT, 'payment_events is append-only'); END;

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    payment_id         TEXT NOT NULL REFERENCES payments(id),
    amount             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    state              TEXT NOT NULL,               -- requested | sent | done | failed
    reason             TEXT,
    requested_by       TEXT NOT NULL,
    provider_refund_id TEXT,
    failure_reason     TEXT,
    sent_at            TEXT,                        -- set before the refund call leaves
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id);

-- Settlement sync (issue: outbox + till-hub). One contiguous sequence per terminal.
CREATE TABLE outbox (
    sequence     INTEGER PRIMARY KEY,
    webhook_id   TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    payment_id   TEXT NOT NULL,
    refund_id    TEXT,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | dead
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error   TEXT,
    delivered_at TEXT
);
CREATE UNIQUE INDEX outbox_once ON outbox(event_type, payment_id, IFNULL(refund_id, ''));

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE provider_calls (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    provider      TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    payment_ref   TEXT,
    status        INTEGER,
    duration_ms   INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    request_body  TEXT,
    response_body TEXT,
    error         TEXT
);
CREATE INDEX provider_calls_at ON provider_calls(at);

-- Calls deferred while a provider was unreachable; retried when it answers again.
CREATE TABLE deferred (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,               -- status_check | execute_resolution | refund
    payment_id      TEXT NOT NULL,
    refund_id       TEXT,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT
);
CREATE UNIQUE INDEX deferred_once ON deferred(kind, payment_id, IFNULL(refund_id, ''));

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
