-- Identity core: users, sessions (refresh-token families), refresh tokens, one-time e-mail
-- tokens, audit log.
-- Times are UTC without zone; ids are UUID text. Same tables as the PostgreSQL migration.

CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    email           TEXT NOT NULL,
    email_canonical TEXT NOT NULL,
    username        TEXT,
    display_name    TEXT,
    password_hash   TEXT,
    role            TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    email_verified  BOOLEAN NOT NULL DEFAULT 0,
    is_active       BOOLEAN NOT NULL DEFAULT 1,
    language        TEXT NOT NULL DEFAULT 'en',
    time_zone       TEXT,
    avatar_url      TEXT,
    bio             TEXT,
    notify_email    BOOLEAN NOT NULL DEFAULT 1,
    notify_push     BOOLEAN NOT NULL DEFAULT 1,
    deleted_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    CONSTRAINT users_email_canonical_key UNIQUE (email_canonical),
    CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP,
    revoke_reason TEXT
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     TEXT NOT NULL,
    issued_at  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    CONSTRAINT refresh_tokens_digest_key UNIQUE (digest)
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

-- One-time tokens sent by mail (verification, reset, address change); only digests.
CREATE TABLE email_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'change_email')),
    digest     TEXT NOT NULL,
    new_email  TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    CONSTRAINT email_tokens_digest_key UNIQUE (digest)
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);
CREATE INDEX users_deleted_at_idx ON users (deleted_at);

-- No foreign keys: the audit log outlives the accounts it mentions.
CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY NOT NULL,
    at         TIMESTAMP NOT NULL,
    actor_id   TEXT,
    action     TEXT NOT NULL,
    subject_id TEXT,
    detail     TEXT NOT NULL
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_id, at);
