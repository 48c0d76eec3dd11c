DROP INDEX job_runs_finished_idx;
DROP INDEX job_runs_due_idx;
ALTER TABLE job_runs DROP COLUMN attempt;
ALTER TABLE job_runs DROP COLUMN due_at;
