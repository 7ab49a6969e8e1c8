-- Read tokens get an id to be listed and revoked by, the time of their last
-- use, and a revocation time (a revoked token is refused; its row stays).
-- HMAC secrets in terminal_keys.material are sealed from this release on:
-- the hub does that itself when it opens the database (it needs the secret
-- key, which no migration has).
CREATE TABLE read_tokens_v2 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256 TEXT NOT NULL UNIQUE,
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
INSERT INTO read_tokens_v2 (token_sha256, label, created_at)
    SELECT token_sha256, label, created_at FROM read_tokens ORDER BY created_at, token_sha256;
DROP TABLE read_tokens;
ALTER TABLE read_tokens_v2 RENAME TO read_tokens;
