-- Read tokens get an id to be listed and revoked by, the time of their last
-- use, and a revocation time (a revoked token is refused; its row stays).
-- HMAC secrets in terminal_keys.material are sealed from this release on:
-- the hub does that itself when it opens the database (it needs the secret
-- key, which no migration has).
ALTER TABLE read_tokens ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE read_tokens ADD COLUMN last_used_at TIMESTAMPTZ;
ALTER TABLE read_tokens ADD COLUMN revoked_at TIMESTAMPTZ;
