-- Schema 8: a payment's provider references by what they are for, not by the
-- wallet that named them (each provider declares its own names for them:
-- `Capabilities::references`). What schema 7 had goes where it belongs:
--   provider_ref       <- provider_payment_id (bKash paymentID, Nagad
--                         paymentReferenceId) or md5 (the KHQR's MD5)
--   transaction_ref    <- hash (Bakong) where set, else trx_id (bKash trxID,
--                         Nagad issuerPaymentRefNo)
--   external_ref       <- trx_id where hash was set (Bakong's externalRef)
--   customer_code      <- khqr (the code the customer scans)
--   customer_page      <- redirect_url (the page the customer pays on)
--   completion_sent_at <- execute_sent_at (bKash execute: never sent twice)
-- SQLite cannot drop a UNIQUE column, so the table is rebuilt; foreign keys
-- are off while migrations run and checked after this one (journal/mod.rs).
CREATE TABLE payments_v8 (
    id                 TEXT PRIMARY KEY,
    provider           TEXT NOT NULL,
    amount             TEXT NOT NULL,
    currency           TEXT NOT NULL,
    state              TEXT NOT NULL,
    invoice            TEXT NOT NULL UNIQUE,
    provider_ref       TEXT,              -- what the provider answers status by
    transaction_ref    TEXT,              -- the provider's id of the money moved
    external_ref       TEXT,              -- a reference given outside the provider
    customer_code      TEXT,
    customer_page      TEXT,
    callback_url       TEXT,
    expires_at         TEXT,
    completion_sent_at TEXT,
    offline            INTEGER NOT NULL DEFAULT 0,
    refunded           TEXT NOT NULL DEFAULT '0',
    flag               TEXT,
    failure_code       TEXT,
    failure_reason     TEXT,
    operator           TEXT NOT NULL,
    business_day       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    booked_day         TEXT,
    payee              TEXT,
    UNIQUE (provider, provider_ref)
);
INSERT INTO payments_v8 (
    id, provider, amount, currency, state, invoice,
    provider_ref, transaction_ref, external_ref, customer_code, customer_page,
    callback_url, expires_at, completion_sent_at, offline, refunded, flag,
    failure_code, failure_reason, operator, business_day, created_at, updated_at,
    booked_day, payee)
SELECT
    id, provider, amount, currency, state, invoice,
    COALESCE(provider_payment_id, md5),
    COALESCE(hash, trx_id),
    CASE WHEN hash IS NOT NULL THEN trx_id END,
    khqr, redirect_url,
    callback_url, expires_at, execute_sent_at, offline, refunded, flag,
    failure_code, failure_reason, operator, business_day, created_at, updated_at,
    booked_day, payee
FROM payments;
DROP TABLE payments;
ALTER TABLE payments_v8 RENAME TO payments;
CREATE INDEX payments_state ON payments(state);
CREATE INDEX payments_day ON payments(business_day, provider);
CREATE INDEX payments_open ON payments(state) WHERE state IN ('created', 'awaiting_customer', 'authorized', 'refund_pending');
CREATE INDEX payments_booked ON payments(booked_day) WHERE booked_day IS NOT NULL;
CREATE INDEX payments_transaction_ref ON payments(transaction_ref) WHERE transaction_ref IS NOT NULL;
