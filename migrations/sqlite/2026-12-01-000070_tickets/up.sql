-- SmartQueue tickets, their events, and each service's day count (what numbering reads with
-- the service locked). A ticket's agent and counter are kept as they were (no foreign key):
-- its history outlives a removed member or counter.
CREATE TABLE service_days (
    tenant_id   TEXT NOT NULL,
    service_id  TEXT NOT NULL,
    day         DATE NOT NULL,
    issued      INTEGER NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, service_id, day),
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE tickets (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    queue_id      TEXT NOT NULL,
    service_id    TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    number        INTEGER NOT NULL,
    service_day   DATE NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('WAITING', 'CALLED', 'IN_SERVICE', 'PAUSED', 'DONE', 'NO_SHOW', 'CANCELLED', 'TRANSFERRED')),
    priority      INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
    customer_id   TEXT REFERENCES customers (id) ON DELETE SET NULL,
    token_digest  TEXT UNIQUE,
    line_at       TIMESTAMP NOT NULL,
    -- `line_at` in whole seconds since 1970: what aging counts in, in both dialects alike.
    line_sec      BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    called_at     TIMESTAMP,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP,
    agent_id      TEXT,
    counter_id    TEXT,
    updated_at    TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, queue_id) REFERENCES queues (tenant_id, id)
);
CREATE UNIQUE INDEX tickets_number ON tickets (tenant_id, service_id, service_day, number);
CREATE INDEX tickets_line ON tickets (tenant_id, queue_id, status, line_at);
-- The service's last served tickets, which its ETA averages.
CREATE INDEX tickets_served ON tickets (tenant_id, service_id, status, finished_at);
-- An agent has at most one ticket called or in service.
CREATE UNIQUE INDEX tickets_agent_active ON tickets (tenant_id, agent_id)
    WHERE status IN ('CALLED', 'IN_SERVICE');

CREATE TABLE ticket_events (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    ticket_id    TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    at           TIMESTAMP NOT NULL,
    agent_id     TEXT,
    counter_id   TEXT,
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ticket_events_ticket ON ticket_events (tenant_id, ticket_id, at);
