-- Each run records the due time it served (the job's run_at when it was claimed: a recurring
-- job's slot, a retry's backoff end) and which attempt at it this was, so the history shows
-- one run per slot and a takeover after a lost lease (attempt 2 of the same due time).
-- Runs recorded before this column existed get their start time and attempt 1.
ALTER TABLE job_runs ADD COLUMN due_at TIMESTAMP;
ALTER TABLE job_runs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
UPDATE job_runs SET due_at = started_at;
ALTER TABLE job_runs ALTER COLUMN due_at SET NOT NULL;
ALTER TABLE job_runs ALTER COLUMN attempt DROP DEFAULT;
CREATE INDEX job_runs_due_idx ON job_runs (job_id, due_at);
-- Old history is pruned by finish time.
CREATE INDEX job_runs_finished_idx ON job_runs (finished_at);
