-- Background jobs: one-off jobs (run_at) and recurring ones (a cron expression in a time
-- zone), claimed by runners with a lease (lease_owner until lease_until). `key` makes
-- enqueuing idempotent; a recurring job's key is 'schedule:<name>'.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    job_key      TEXT NOT NULL UNIQUE,
    cron         TEXT,
    zone         TEXT,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    run_at       TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMP,
    last_error   TEXT,
    created_at   TIMESTAMP NOT NULL,
    CHECK ((cron IS NULL) = (zone IS NULL)),
    CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);
CREATE INDEX jobs_due_idx ON jobs (state, run_at);

-- Each run of a job: who ran it, when, and how it ended.
CREATE TABLE job_runs (
    id          TEXT PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    owner       TEXT NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    error       TEXT
);
CREATE INDEX job_runs_job_idx ON job_runs (job_id, finished_at);
