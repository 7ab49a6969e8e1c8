-- Evidence from the providers themselves (crate::evidence): bKash's IPN
-- messages as received, the subscription messages, an index of the
-- settlement events' provider references, and what Bakong answered about
-- each settled KHQR. Amounts are TEXT holding exact decimal strings.
-- (V5 is the dashboard's; the numbers are apart on purpose.)

-- One row per SNS MessageId, ever: a replayed message is answered, not stored.
CREATE TABLE ipn_messages (
    message_id         TEXT PRIMARY KEY,
    topic_arn          TEXT NOT NULL,
    trx_id             TEXT,             -- NULL: the notice could not be read (see problem)
    transaction_status TEXT,
    amount             TEXT,
    sale_amount        TEXT,             -- coupon payments only
    currency           TEXT,
    invoice            TEXT,
    paid_at            TEXT,             -- dateTime, read as Bangladesh time (UTC, RFC 3339)
    paid_on            TEXT NOT NULL,    -- its Bangladesh date (of receipt when unreadable)
    sns_timestamp      TEXT NOT NULL,
    problem            TEXT,
    received_at        TEXT NOT NULL,
    envelope           TEXT NOT NULL     -- the body exactly as posted
);
CREATE INDEX ipn_messages_trx ON ipn_messages(trx_id);
CREATE INDEX ipn_messages_day ON ipn_messages(paid_on);

-- SubscriptionConfirmation / UnsubscribeConfirmation messages and what the
-- hub did with them (confirmed, refused, failed, unsubscribed).
CREATE TABLE ipn_subscriptions (
    message_id  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    topic_arn   TEXT NOT NULL,
    url         TEXT NOT NULL,
    status      TEXT NOT NULL,
    detail      TEXT,
    received_at TEXT NOT NULL,
    envelope    TEXT NOT NULL
);

-- Every payment.settled event's references, read from its body with
-- till-sync-proto (every schema version), so evidence can be matched by
-- reference. Filled behind ingest by crate::evidence::refs.
CREATE TABLE evidence_refs (
    event_id        TEXT PRIMARY KEY REFERENCES events(id),
    event_cursor    INTEGER NOT NULL,   -- events.rowid
    terminal_id     TEXT NOT NULL,
    payment_id      TEXT,
    provider        TEXT NOT NULL,
    business_day    TEXT NOT NULL,
    amount          TEXT,
    currency        TEXT,
    lookup_ref      TEXT,
    transaction_ref TEXT,
    payee           TEXT,
    settled_at      TEXT NOT NULL,
    received_at     TEXT NOT NULL
);
CREATE INDEX evidence_refs_transaction ON evidence_refs(provider, transaction_ref);
CREATE INDEX evidence_refs_day ON evidence_refs(provider, business_day);
CREATE INDEX evidence_refs_cursor ON evidence_refs(event_cursor);

-- Small counters of the evidence side (the index's low-water mark).
CREATE TABLE evidence_state (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- The latest Bakong answer about each settled KHQR event's MD5.
CREATE TABLE bakong_checks (
    event_id     TEXT PRIMARY KEY REFERENCES events(id),
    md5          TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('paid', 'not_found', 'failed')),
    hash         TEXT,
    amount       TEXT,
    currency     TEXT,
    to_account   TEXT,
    detail       TEXT,
    checked_at   TEXT NOT NULL
);
