-- The office dashboard (crate::office): its users and their sessions.
-- Passwords are Argon2id PHC strings, never the password; a session is kept
-- as the SHA-256 of its token, never the token (it lives only in the
-- browser's cookie). Wrong passwords are counted per user; `locked_until`
-- refuses sign-in until that time.
CREATE TABLE office_users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('read', 'admin')),
    language            TEXT,
    status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    failures            INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_sign_in_at     TEXT
);

CREATE TABLE office_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES office_users(id),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX office_sessions_user ON office_sessions(user_id);
