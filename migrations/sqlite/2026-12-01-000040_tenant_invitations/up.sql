-- Invitations to a tenant: mailed with a single-use link (its digest is stored) that expires;
-- a newer invitation to the same address revokes the older.
CREATE TABLE tenant_invitations (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_canonical  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'AGENT')),
    digest           TEXT NOT NULL UNIQUE,
    invited_by       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    accepted_at      TIMESTAMP,
    accepted_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at       TIMESTAMP
);
CREATE INDEX tenant_invitations_address ON tenant_invitations (tenant_id, email_canonical);
