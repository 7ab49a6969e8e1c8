-- Schema 6: the receiving account ("payee") of each payment, written when the
-- payment is created: the Bakong account id the KHQR names, or for bKash a
-- fingerprint of the merchant credentials the payment was made with (never
-- the credentials). Payments written before this schema have NULL: unknown,
-- shown as such, never guessed from today's settings.
ALTER TABLE payments ADD COLUMN payee TEXT;
-- The payee settings the journal last saw (JSON, wallet → payee) are kept in
-- `meta` under the key 'payees'; the engine compares them at open and audits
-- a difference with the old and the new value.
