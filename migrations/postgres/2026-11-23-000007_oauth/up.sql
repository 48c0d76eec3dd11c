-- Sign-in through external providers: linked identities, flows in progress and pending links.
CREATE TABLE external_identities (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    email         TEXT,
    created_at    TIMESTAMP NOT NULL,
    last_used_at  TIMESTAMP,
    -- Whether the account's address was proven when it was linked (see ExternalIdentity).
    proven        BOOLEAN NOT NULL,
    UNIQUE (provider, subject)
);
CREATE INDEX external_identities_of_user ON external_identities (user_id, created_at);

-- One row per started flow, keyed by the digest of its state; deleted by its callback.
CREATE TABLE oauth_flows (
    state_digest    TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    binding_digest  TEXT NOT NULL,
    response        TEXT NOT NULL CHECK (response IN ('redirect', 'json')),
    link_to         TEXT REFERENCES users (id) ON DELETE CASCADE,
    link_session    TEXT,
    expires_at      TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX oauth_flows_expiry ON oauth_flows (expires_at);

CREATE TABLE oauth_pending_links (
    digest      TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    subject     TEXT NOT NULL,
    email       TEXT,
    expires_at  TIMESTAMP NOT NULL
);
