-- Schema 7: the audit log and the Z-reports are one hash chain
-- (journal/chain.rs has the canonical form; docs/webhooks.md, "Audit chain").
-- Row n carries its position and SHA-256 over row n-1's hash and its own
-- canonical content, written in the same statement as the row.
ALTER TABLE audit_log ADD COLUMN chain_index INTEGER;
ALTER TABLE audit_log ADD COLUMN chain_hash TEXT;
ALTER TABLE day_closes ADD COLUMN chain_index INTEGER;
ALTER TABLE day_closes ADD COLUMN chain_hash TEXT;
CREATE UNIQUE INDEX audit_log_chain ON audit_log(chain_index);
CREATE UNIQUE INDEX day_closes_chain ON day_closes(chain_index);

-- Rows written before this schema are chained once by the build that
-- migrates (SQL cannot hash): the append-only triggers let a row's chain be
-- filled in only while it has none.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN OLD.chain_hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
DROP TRIGGER day_closes_no_update;
CREATE TRIGGER day_closes_no_update BEFORE UPDATE ON day_closes WHEN OLD.chain_hash IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a closed day cannot be changed'); END;

-- What the hub holds of the chain (from its last answer): the terminal
-- proves with each head that this one is a prefix of it.
ALTER TABLE sync_endpoint ADD COLUMN hub_chain_count INTEGER;
ALTER TABLE sync_endpoint ADD COLUMN hub_chain_hash TEXT;
