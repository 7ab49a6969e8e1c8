-- Schema 2: invoice numbers come from a counter kept in the journal, so they
-- stay short enough for a KHQR bill number (25 characters) and never repeat.
INSERT OR IGNORE INTO meta(key, value) VALUES ('invoice_counter', '0');
CREATE INDEX payments_open ON payments(state) WHERE state IN ('created', 'awaiting_customer', 'authorized', 'refund_pending');
