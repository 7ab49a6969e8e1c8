-- The office dashboard (crate::office): its users and their sessions.
-- Passwords are Argon2id PHC strings, never the password; a session is kept
-- as the SHA-256 of its token, never the token (it lives only in the
-- browser's cookie). Wrong passwords are counted per user; `locked_until`
-- refuses sign-in until that time.
CREATE TABLE office_users (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('read', 'admin')),
    language            TEXT,
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failures            INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    password_changed_at TIMESTAMPTZ NOT NULL,
    last_sign_in_at     TIMESTAMPTZ
);

CREATE TABLE office_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES office_users(id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX office_sessions_user ON office_sessions(user_id);
