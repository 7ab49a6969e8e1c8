-- Schema 10 (0009 is the local API's): why a payment ended as it did, as a
-- code and its parameters (JSON of `reason::Reason`), so a screen says it in
-- its reader's language. `failure_code` and `failure_reason` stay what the
-- provider said (its code, its words), for a manager and the logs.
-- Rows before it: NULL, shown from their state alone.
ALTER TABLE payments ADD COLUMN failure TEXT;
