-- SmartQueue's catalogue (sites, services, queues, counters), customers and agent profiles.
-- Every row belongs to one tenant; a reference to another item carries the tenant too
-- (`(tenant_id, site_id)` → `sites (tenant_id, id)`), so the database itself keeps an item
-- from pointing into another tenant. Deleting an item others refer to fails (the API answers
-- 409 `in_use`); a tenant's purge removes them all.
CREATE TABLE sites (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    address     TEXT,
    time_zone   TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE TABLE services (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id              TEXT NOT NULL,
    name                 TEXT NOT NULL,
    prefix               TEXT NOT NULL,
    range_start          INTEGER NOT NULL,
    range_end            INTEGER NOT NULL,
    daily_cap            INTEGER,
    avg_service_minutes  INTEGER NOT NULL,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);
CREATE INDEX services_site ON services (tenant_id, site_id);

CREATE TABLE queues (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    service_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    algorithm      TEXT NOT NULL CHECK (algorithm IN ('FIFO', 'PRIORITY')),
    is_open        BOOLEAN NOT NULL,
    max_waiting    INTEGER,
    aging_minutes  INTEGER NOT NULL,
    join_token     TEXT NOT NULL UNIQUE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id)
);
CREATE INDEX queues_service ON queues (tenant_id, service_id);

CREATE TABLE counters (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    site_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, site_id) REFERENCES sites (tenant_id, id)
);
CREATE INDEX counters_site ON counters (tenant_id, site_id);

CREATE TABLE customers (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name              TEXT,
    phone             TEXT,
    email             TEXT,
    consent_sms       BOOLEAN NOT NULL,
    consent_whatsapp  BOOLEAN NOT NULL,
    consent_email     BOOLEAN NOT NULL,
    consent_push      BOOLEAN NOT NULL,
    language          TEXT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id)
);

-- A member's agent profile goes with the membership; its counter, when deleted, leaves the
-- agent at none; a deleted queue leaves the lists of the agents who served it.
CREATE TABLE agent_profiles (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('AVAILABLE', 'BUSY', 'PAUSED', 'OFFLINE')),
    counter_id  TEXT REFERENCES counters (id) ON DELETE SET NULL,
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES tenant_members (tenant_id, user_id) ON DELETE CASCADE
);

CREATE TABLE agent_queues (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    queue_id   TEXT NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, queue_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES agent_profiles (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX agent_queues_queue ON agent_queues (queue_id);
