-- SmartQueue tenants (organisations) and their members. `tenants` is the registry, found by
-- slug before anyone is admitted into a tenant; every table with a `tenant_id` belongs to one
-- tenant and is reached only through the view bound to it.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    locale      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE tenant_members (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'AGENT')),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_members_user ON tenant_members (user_id);

-- Row-level security: a second wall behind the adapter's `tenant_id = …` on every statement.
-- The adapter sets `accueil.tenant_id` for the transaction when it binds a view to a tenant,
-- and `accueil.user_id` when it reads one user's memberships across tenants (the tenant
-- gate, the list of one's tenants); a row is visible, and writable, only under one of them.
-- FORCE applies the policy to the table's owner too: the server connects as an ordinary role
-- (neither superuser nor BYPASSRLS, which skip every policy; docs/operations.md).
ALTER TABLE tenant_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_members_isolation ON tenant_members
    USING (tenant_id = current_setting('accueil.tenant_id', true)
           OR user_id = current_setting('accueil.user_id', true))
    WITH CHECK (tenant_id = current_setting('accueil.tenant_id', true)
                OR user_id = current_setting('accueil.user_id', true));
