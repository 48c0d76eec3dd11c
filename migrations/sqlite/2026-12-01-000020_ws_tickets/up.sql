-- One-time tickets of realtime connections (GET /api/v1/ws?ticket=): the digest of the secret,
-- the user and the session the connection will belong to, and a 30-second validity. A
-- redemption deletes the row; expired rows are purged.
CREATE TABLE ws_tickets (
    digest      TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
CREATE INDEX ws_tickets_expiry ON ws_tickets (expires_at);
